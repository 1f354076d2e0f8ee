#!/usr/bin/env python3
"""models/reference_whisper.py — golden outputs of the ORIGINAL implementations for the Swift audio tests.

References: faster-whisper's FeatureExtractor (log-mel), ctranslate2's Whisper (encoder states, greedy decoding,
no-speech probability) on the same model.bin the server reads, and scipy.signal.resample_poly (the resampler).
Not part of `make test`: the output is committed (Tests/Fixtures/whisper-tiny-en/golden.json, small).
The long recordings' transcripts (faster-whisper's transcribe()) are models/reference_speech_decoding.py's.

Usage: /work/tools/refvenv/bin/python models/reference_whisper.py
  venv: pip install ctranslate2==4.8.5 faster-whisper==1.2.1 scipy numpy   (CPU)
  inputs: Tests/Fixtures/audio/golden/*.flac and sfx/*.flac (decoded with sox to float32: the 16-bit samples / 32768)
  model:  models/whisper-tiny-en/ (run models/fetch first)

golden.json:
  {"reference": versions,
   "resample": [{"from": rate, "to": rate, "input": "chirp", "count": n_in, "output": [float]}],
       input: x[i] = 0.5 sin(2π (100 t + 0.5·k t²)), t = i / from, k = 0.45·from / duration (a chirp to 0.45·from Hz)
   "clips": [{"file": path under Tests/Fixtures/audio, "samples": n,
              "mel": {"frames": content frames, "max": global max of log-mel (after clamp),
                      "rows": {frame index: [80 floats]}},      (faster-whisper FeatureExtractor, window 0)
              "encoder": {"rows": {frame index: [384 floats]}, "mean": [384 floats]},   (window 0, 1500 frames)
              "tokens": [int] (greedy, prompt <|startoftranscript|><|notimestamps|>, without the prompt/EOT),
              "text": str, "no_speech_prob": float}]}
"""
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
AUDIO = os.path.join(ROOT, "Tests", "Fixtures", "audio")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "whisper-tiny-en", "golden.json")
MODEL = os.path.join(HERE, "whisper-tiny-en")
SOT, NO_TIMESTAMPS = 50257, 50362
MEL_ROWS = [0, 50, 100]
ENC_ROWS = [0, 50, 100, 1499]


def r(v, nd=6):
    return [round(float(x), nd) for x in np.asarray(v).ravel()]


def decode(path):
    raw = subprocess.run(["sox", path, "-t", "f32", "-c", "1", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.float32).copy()


def chirp(rate, count, duration=0.1):
    t = np.arange(count, dtype=np.float64) / rate
    k = 0.45 * rate / duration
    return (0.5 * np.sin(2 * np.pi * (100 * t + 0.5 * k * t * t))).astype(np.float32)


def main():
    import ctranslate2
    import faster_whisper
    import scipy
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.feature_extractor import FeatureExtractor
    from scipy.signal import resample_poly

    out = {"reference": f"ctranslate2 {ctranslate2.__version__}, faster-whisper {faster_whisper.__version__}, "
                        f"scipy {scipy.__version__}, numpy {np.__version__}",
           "resample": [], "clips": []}
    for src, dst in [(22050, 16000), (44100, 16000), (48000, 16000), (8000, 16000)]:
        n = int(src * 0.1)
        x = chirp(src, n)
        from math import gcd
        g = gcd(src, dst)
        y = resample_poly(x.astype(np.float64), dst // g, src // g)
        out["resample"].append({"from": src, "to": dst, "input": "chirp", "count": n, "output": r(y, 7)})

    fe = FeatureExtractor()
    model = ctranslate2.models.Whisper(MODEL, device="cpu", compute_type="float32")
    files = [f"golden/{f}" for f in sorted(os.listdir(os.path.join(AUDIO, "golden"))) if f.endswith(".flac")]
    files += [f"sfx/{f}" for f in sorted(os.listdir(os.path.join(AUDIO, "sfx")))]
    for rel in files:
        audio = decode(os.path.join(AUDIO, rel))
        features = fe(audio)                       # [80, frames + 1]
        content = features.shape[-1] - 1
        window = pad_or_trim(features[:, :min(3000, content)])   # as WhisperModel.generate_segments
        enc = model.encode(ctranslate2.StorageView.from_array(window[None].astype(np.float32)))
        states = np.array(enc)[0]                  # [1500, 384]
        res = model.generate(enc, [[SOT, NO_TIMESTAMPS]], beam_size=1, max_length=448, return_scores=True,
                             return_no_speech_prob=True, suppress_blank=True, suppress_tokens=[-1])[0]
        tokens = res.sequences_ids[0]
        vocab = open(os.path.join(MODEL, "vocabulary.txt"), encoding="utf-8").read().split("\n")
        text = bytes_text([vocab[t] for t in tokens])
        print(f"{rel:40s} {len(audio) / 16000:5.2f}s no_speech {res.no_speech_prob:.3f} {text!r}")
        out["clips"].append({
            "file": rel, "samples": int(len(audio)),
            "mel": {"frames": int(content), "max": float(window[:, :content].max()),
                    "rows": {str(i): r(window[:, i]) for i in MEL_ROWS}},
            "encoder": {"rows": {str(i): r(states[i]) for i in ENC_ROWS}, "mean": r(states.mean(0))},
            "tokens": [int(t) for t in tokens], "text": text, "no_speech_prob": round(float(res.no_speech_prob), 6)})
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


def bytes_text(pieces):
    """GPT-2 byte-level BPE pieces -> text (the byte <-> unicode table of openai/gpt-2 encoder.py)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = {chr(c): b for b, c in zip(bs, cs)}
    return bytes(table[ch] for ch in "".join(pieces)).decode("utf-8", errors="replace")


if __name__ == "__main__":
    sys.exit(main())
