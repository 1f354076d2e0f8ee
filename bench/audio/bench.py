#!/usr/bin/env python3
"""bench/audio — real-time factor of Whisper tiny.en transcription: Rosetta vs CTranslate2, same machine, same run.

For each clip, both runtimes do the whole transcription path — decode the file and resample to 16 kHz, log-mel,
encoder on one 30 s window per 30 s of audio, greedy decoding (prompt <|startoftranscript|><|notimestamps|>,
suppress_blank, the config's suppress_tokens) — with the same number of threads. Rounds alternate between the
runtimes and each runtime's best round is kept, so a burst of other load does not decide a ratio.
RTF = processing seconds / audio seconds (lower is faster); the ratio column is CTranslate2 RTF / Rosetta RTF
(> 1: Rosetta is faster). Embedding an audio input adds one text-encoder pass over the transcript (about a
millisecond for MiniLM), so the transcription RTF is also the audio-embedding RTF.

Reference: ctranslate2 (compute_type float32, intra_threads = --threads) with faster-whisper's FeatureExtractor,
decoding the file with PyAV (faster_whisper.decode_audio). Run with the venv that has them:
  /work/tools/refvenv/bin/python bench/audio/bench.py [--threads 2] [--rounds 3] [files...]
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


def rosetta(binary, model, threads, files):
    out = subprocess.run([binary, model, str(threads), "1"] + files, check=True, capture_output=True, text=True).stdout
    return {r["file"]: r for r in map(json.loads, out.splitlines())}


def ctranslate2_run(model, files):
    import numpy as np
    import ctranslate2
    from faster_whisper.audio import decode_audio, pad_or_trim
    res = {}
    for f in files:
        t0 = time.perf_counter()
        audio = decode_audio(f, sampling_rate=16000)
        feats = model.fe(audio)
        content = feats.shape[-1] - 1
        texts = []
        t1 = time.perf_counter()
        enc_s = dec_s = 0.0
        for start in range(0, max(1, content), 3000):
            a = time.perf_counter()
            window = pad_or_trim(feats[:, start:min(start + 3000, content)])
            enc = model.whisper.encode(ctranslate2.StorageView.from_array(window[None].astype(np.float32)))
            b = time.perf_counter()
            r = model.whisper.generate(enc, [[50257, 50362]], beam_size=1, max_length=448, return_no_speech_prob=True,
                                       suppress_blank=True, suppress_tokens=[-1])[0]
            dec_s += time.perf_counter() - b
            enc_s += b - a
            texts.append(model.vocab_text(r.sequences_ids[0]))
        total = time.perf_counter() - t0
        res[f] = {"audio_seconds": len(audio) / 16000, "text": "".join(texts),
                  "seconds": {"total": total, "encoder": enc_s, "decoder": dec_s, "features": t1 - t0}}
    return res


class CT2:
    def __init__(self, folder, threads):
        import ctranslate2
        from faster_whisper.feature_extractor import FeatureExtractor
        self.whisper = ctranslate2.models.Whisper(folder, device="cpu", compute_type="float32", intra_threads=threads)
        self.fe = FeatureExtractor()
        sys.path.insert(0, os.path.join(ROOT, "models"))
        from reference_whisper import bytes_text
        vocab = open(os.path.join(folder, "vocabulary.txt"), encoding="utf-8").read().split("\n")
        self.vocab_text = lambda ids: bytes_text([vocab[i] for i in ids])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
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
    ct2 = CT2(a.model, a.threads)
    best = {"rosetta": {}, "ctranslate2": {}}
    for _ in range(a.rounds):
        for name, run in (("rosetta", lambda: rosetta(a.binary, a.model, a.threads, files)),
                          ("ctranslate2", lambda: ctranslate2_run(ct2, files))):
            for f, r in run().items():
                old = best[name].get(f)
                if old is None or r["seconds"]["total"] < old["seconds"]["total"]:
                    best[name][f] = r
    print(f"threads {a.threads}, best of {a.rounds} rounds; RTF = seconds of processing per second of audio")
    print(f"{'clip':28s} {'audio s':>7s} {'Rosetta RTF':>11s} {'(enc/dec s)':>13s} {'CT2 RTF':>8s} {'(enc/dec s)':>13s} {'CT2/Rosetta':>11s}  same text")
    tot = {"rosetta": 0.0, "ctranslate2": 0.0, "audio": 0.0}
    rows = []
    for f in files:
        r, c = best["rosetta"][f], best["ctranslate2"][f]
        sec = r["audio_seconds"]
        rr, cr = r["seconds"]["total"] / sec, c["seconds"]["total"] / sec
        tot["rosetta"] += r["seconds"]["total"]
        tot["ctranslate2"] += c["seconds"]["total"]
        tot["audio"] += sec
        print(f"{os.path.basename(f)[:28]:28s} {sec:7.2f} {rr:11.3f} {r['seconds']['encoder']:6.2f}/{r['seconds']['decoder']:<6.2f} "
              f"{cr:8.3f} {c['seconds']['encoder']:6.2f}/{c['seconds']['decoder']:<6.2f} {cr / rr:11.2f}  "
              f"{r['text'].strip() == c['text'].strip()}")
        rows.append([os.path.basename(f), f"{sec:.2f}", f"{rr:.3f}", f"{cr:.3f}", f"{cr / rr:.2f}",
                     "yes" if r["text"].strip() == c["text"].strip() else "no"])
    print(f"{'all':28s} {tot['audio']:7.2f} {tot['rosetta'] / tot['audio']:11.3f} {'':13s} {tot['ctranslate2'] / tot['audio']:8.3f} "
          f"{'':13s} {tot['ctranslate2'] / tot['rosetta']:11.2f}")
    if a.markdown:
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        import markdown
        rows.append(["all", f"{tot['audio']:.2f}", f"{tot['rosetta'] / tot['audio']:.3f}",
                     f"{tot['ctranslate2'] / tot['audio']:.3f}", f"{tot['ctranslate2'] / tot['rosetta']:.2f}", ""])
        markdown.append(a.markdown, "Whisper tiny.en transcription: Rosetta vs CTranslate2 (bench/audio)",
                        f"Real-time factor (processing s per audio s), {a.threads} threads, best of {a.rounds} rounds; "
                        f"load average: {os.getloadavg()[0]:.1f}. No issue #9 target (reference: CTranslate2 float32).\n\n"
                        + markdown.table(["clip", "audio s", "Rosetta RTF", "CT2 RTF", "CT2 / Rosetta", "same text"], rows))


if __name__ == "__main__":
    main()
