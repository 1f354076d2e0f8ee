#!/usr/bin/env python3
"""models/reference_speech_decoding.py — faster-whisper's transcribe() on the decoding clips: the goldens of
Rosetta's Whisper decoding (Tests/AudioTests/SpeechDecodingGoldenTests.swift).

Reference: faster-whisper 1.2.1 `WhisperModel.transcribe(audio, language="en")` with its defaults (timestamps,
temperature fallback 0, 0.2, ..., 1.0 on compression ratio > 2.4 or avg logprob < -1, no-speech rule 0.6 / -1,
suppress_blank, suppress_tokens [-1], max_initial_timestamp 1.0, condition_on_previous_text, no VAD), float32 on
CPU, on the same CTranslate2 model.bin the server reads, in two settings: "greedy" (beam_size=1) and "beam5"
(beam_size=5, patience 1, length_penalty 1: the defaults).
Inputs: Tests/Fixtures/audio/decoding/{speech,nonspeech}/*.ogg (models/speech_clips.py),
Tests/Fixtures/audio/golden/*.flac and long/*.ogg (models/audio_clips.py), decoded with sox to float32 (the 16-bit samples / 32768, as libsndfile does).
Not part of `make test`; the output is committed: Tests/Fixtures/audio/decoding/faster-whisper.json
  {"reference": versions,
   "clips": {path under Tests/Fixtures/audio: {"greedy"|"beam5": {
       "text": the segments' texts, each stripped, joined by one space,
       "deterministic": every window was decoded at temperature 0 (a window that fell back to sampling used
                        CTranslate2's random generator: its text is not reproducible and is not compared),
       "segments": [{"start", "end", "text"}],
       "windows": [{"seek", "temperature", "avg_logprob", "no_speech_prob", "compression_ratio", "skipped"}]}}}}

Usage: models/setup-speech-venv && models/.venv-speech/bin/python models/reference_speech_decoding.py
  model: models/whisper-tiny-en/ (models/fetch) or --model DIR
"""
import argparse
import glob
import json
import os
import subprocess

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
AUDIO = os.path.join(ROOT, "Tests", "Fixtures", "audio")
OUT = os.path.join(AUDIO, "decoding", "faster-whisper.json")
SETTINGS = {"greedy": 1, "beam5": 5}


def decode(path):
    raw = subprocess.run(["sox", path, "-t", "f32", "-c", "1", "-r", "16000", "-"], check=True,
                         capture_output=True).stdout
    return np.frombuffer(raw, np.float32).copy()


def main():
    import ctranslate2
    import faster_whisper
    from faster_whisper import WhisperModel

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default=os.path.join(HERE, "whisper-tiny-en"))
    p.add_argument("--resume", action="store_true", help="keep the clips already in the output")
    p.add_argument("--shard", default="0/1", help="i/n: only every n-th clip from the i-th (parallel runs)")
    p.add_argument("--out", default=OUT)
    args = p.parse_args()
    model = WhisperModel(args.model, device="cpu", compute_type="float32", cpu_threads=1)

    # Record each window's decode (generate_with_fallback's result) to tell deterministic windows from sampled.
    windows = []
    original = model.generate_with_fallback

    def recording(encoder_output, prompt, tokenizer, options):
        result, avg_logprob, temperature, compression_ratio = original(encoder_output, prompt, tokenizer, options)
        skipped = result.no_speech_prob > options.no_speech_threshold and not avg_logprob > options.log_prob_threshold
        windows.append({"temperature": temperature, "avg_logprob": round(float(avg_logprob), 4),
                        "no_speech_prob": round(float(result.no_speech_prob), 4),
                        "compression_ratio": round(float(compression_ratio), 4), "skipped": bool(skipped)})
        return result, avg_logprob, temperature, compression_ratio

    model.generate_with_fallback = recording

    files = sorted(glob.glob(os.path.join(AUDIO, "decoding", "speech", "*.ogg")))
    files += sorted(glob.glob(os.path.join(AUDIO, "decoding", "nonspeech", "*.ogg")))
    files += sorted(glob.glob(os.path.join(AUDIO, "golden", "*.flac")))
    files += sorted(glob.glob(os.path.join(AUDIO, "long", "*.ogg")))
    clips = {}
    if args.resume and os.path.exists(args.out):
        with open(args.out) as f:
            clips = json.load(f)["clips"]
    shard, shards = map(int, args.shard.split("/"))
    for path in files[shard::shards]:
        if os.path.relpath(path, AUDIO) in clips:
            continue
        audio = decode(path)
        entry = {}
        for name, beam in SETTINGS.items():
            windows.clear()
            segments, _ = model.transcribe(audio, language="en", beam_size=beam)
            segments = list(segments)
            entry[name] = {
                "text": " ".join(s.text.strip() for s in segments if s.text.strip()),
                "deterministic": all(w["temperature"] == 0 for w in windows),
                "segments": [{"start": round(s.start, 2), "end": round(s.end, 2), "text": s.text} for s in segments],
                "windows": list(windows),
            }
        rel = os.path.relpath(path, AUDIO)
        clips[rel] = entry
        print(rel, "|", entry["greedy"]["text"], "|", entry["beam5"]["text"], flush=True)
        out = {"reference": {"faster-whisper": faster_whisper.__version__, "ctranslate2": ctranslate2.__version__},
               "clips": dict(sorted(clips.items()))}
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main()
