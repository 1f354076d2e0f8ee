#!/usr/bin/env python3
"""bench/audio — real-time factor of Whisper tiny.en transcription: Rosetta vs faster-whisper, same machine, same run.

For each clip, both do the whole transcription path — decode the file and resample to 16 kHz, log-mel, then
faster-whisper's `transcribe()` with its defaults (30 s windows with timestamps, beam search with --beam-size beams
(1: greedy), temperature fallback, the no-speech rule, conditioning on previous text; no VAD) — with the same
number of threads. Rounds alternate between the runtimes and each runtime's best round is kept, so a burst of
other load does not decide a ratio.
RTF = processing seconds / audio seconds (lower is faster); the ratio column is faster-whisper RTF / Rosetta RTF
(> 1: Rosetta is faster). Embedding an audio input adds one text-encoder pass over the transcript (about a
millisecond for MiniLM), so the transcription RTF is also the audio-embedding RTF.

Reference: faster-whisper's WhisperModel (CTranslate2, compute_type float32, cpu_threads = --threads), decoding the
file with PyAV. Run with the venv that has it (bench/audio/setup-venv):
  bench/audio/.venv/bin/python bench/audio/bench.py [--threads 2] [--rounds 3] [--beam-size 5] [files...]
Rosetta: the release binary rosetta-bench-audio (swift build -c release --product rosetta-bench-audio).
Default files: Tests/Fixtures/audio/golden/*.flac, one sound effect, and a 30 s concatenation of speech clips.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def rosetta(binary, model, threads, beam_size, files):
    out = subprocess.run([binary, model, str(threads), "1", str(beam_size)] + files, check=True, capture_output=True,
                         text=True).stdout
    return {r["file"]: r for r in map(json.loads, out.splitlines())}


def faster_whisper_run(model, beam_size, files):
    from faster_whisper.audio import decode_audio
    res = {}
    for f in files:
        t0 = time.perf_counter()
        audio = decode_audio(f, sampling_rate=16000)
        segments, _ = model.transcribe(audio, language="en", beam_size=beam_size)
        text = " ".join(s.text.strip() for s in segments if s.text.strip())
        res[f] = {"audio_seconds": len(audio) / 16000, "text": text, "seconds": {"total": time.perf_counter() - t0}}
    return res


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--beam-size", type=int, default=5, help="1: greedy")
    p.add_argument("--model", default=os.path.join(ROOT, "models", "whisper-tiny-en"))
    p.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "rosetta-bench-audio"))
    p.add_argument("--markdown", default="", help="append a section with the table to this file")
    p.add_argument("files", nargs="*")
    a = p.parse_args()
    files = a.files
    tmp = tempfile.mkdtemp()
    if not files:
        golden = os.path.join(ROOT, "Tests", "Fixtures", "audio", "golden")
        files = sorted(os.path.join(golden, f) for f in os.listdir(golden) if f.endswith(".flac"))
        files.append(os.path.join(ROOT, "Tests", "Fixtures", "audio", "sfx", "tone440.flac"))
        speech = os.path.join(ROOT, "Tests", "Fixtures", "audio", "speech")
        clips = sorted(os.path.join(speech, f) for f in os.listdir(speech) if f.endswith("-en-us.ogg"))
        long = os.path.join(tmp, "speech-30s.wav")
        subprocess.run(["sox"] + clips + [long, "trim", "0", "29.9"], check=True)
        files.append(long)
    from faster_whisper import WhisperModel
    reference = WhisperModel(a.model, device="cpu", compute_type="float32", cpu_threads=a.threads)
    best = {"rosetta": {}, "faster-whisper": {}}
    for _ in range(a.rounds):
        for name, run in (("rosetta", lambda: rosetta(a.binary, a.model, a.threads, a.beam_size, files)),
                          ("faster-whisper", lambda: faster_whisper_run(reference, a.beam_size, files))):
            for f, r in run().items():
                old = best[name].get(f)
                if old is None or r["seconds"]["total"] < old["seconds"]["total"]:
                    best[name][f] = r
    print(f"threads {a.threads}, beam size {a.beam_size}, best of {a.rounds} rounds; RTF = seconds of processing per second of audio")
    print(f"{'clip':28s} {'audio s':>7s} {'Rosetta RTF':>11s} {'FW RTF':>8s} {'FW/Rosetta':>11s}  same text")
    tot = {"rosetta": 0.0, "faster-whisper": 0.0, "audio": 0.0}
    rows = []
    for f in files:
        r, c = best["rosetta"][f], best["faster-whisper"][f]
        sec = r["audio_seconds"]
        rr, cr = r["seconds"]["total"] / sec, c["seconds"]["total"] / sec
        tot["rosetta"] += r["seconds"]["total"]
        tot["faster-whisper"] += c["seconds"]["total"]
        tot["audio"] += sec
        print(f"{os.path.basename(f)[:28]:28s} {sec:7.2f} {rr:11.3f} {cr:8.3f} {cr / rr:11.2f}  "
              f"{r['text'].strip() == c['text'].strip()}")
        rows.append([os.path.basename(f), f"{sec:.2f}", f"{rr:.3f}", f"{cr:.3f}", f"{cr / rr:.2f}",
                     "yes" if r["text"].strip() == c["text"].strip() else "no"])
    print(f"{'all':28s} {tot['audio']:7.2f} {tot['rosetta'] / tot['audio']:11.3f} {tot['faster-whisper'] / tot['audio']:8.3f} "
          f"{tot['faster-whisper'] / tot['rosetta']:11.2f}")
    if a.markdown:
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        import markdown
        rows.append(["all", f"{tot['audio']:.2f}", f"{tot['rosetta'] / tot['audio']:.3f}",
                     f"{tot['faster-whisper'] / tot['audio']:.3f}", f"{tot['faster-whisper'] / tot['rosetta']:.2f}", ""])
        markdown.append(a.markdown, "Whisper tiny.en transcription: Rosetta vs faster-whisper (bench/audio)",
                        f"Real-time factor (processing s per audio s), {a.threads} threads, beam size {a.beam_size}, "
                        f"best of {a.rounds} rounds; load average: {os.getloadavg()[0]:.1f}. "
                        f"Reference: faster-whisper transcribe() on CTranslate2 float32.\n\n"
                        + markdown.table(["clip", "audio s", "Rosetta RTF", "FW RTF", "FW / Rosetta", "same text"], rows))


if __name__ == "__main__":
    main()
