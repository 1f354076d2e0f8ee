#!/usr/bin/env python3
"""models/reference_aisfx.py — golden fixtures for the aiSFX sound-effects model (front end + CNN).

The reference is the aisfx package itself (PyPI aisfx 0.1.2, code MIT, model CC BY 4.0 — Ma & Lerch, ISMIR 2022):
its librosa spectrogram path (`aisfx.spectrogram.spectrogram_librosa.compute_spectrogram`, then
`aisfx.preprocessing.spectrogram_normalize(spec_norm="original")` and `blocking(block 100, hop 50,
drop_partial_block=True)`) and `aisfx.models.cnn2d.EmbeddingNet('max', 3, 1, 64)` loaded with the embedding-net
weights of its checkpoint. aisfx pins old numpy/librosa, so it is not installed: its wheel is unpacked and the
two modules are imported from it. Run in a venv with torch, librosa (0.11) and numpy, with sox on PATH:
  python models/reference_aisfx.py --wheel <dir with aisfx-0.1.2-py2.py3-none-any.whl>

Writes Tests/Fixtures/aisfx/:
  <name>.flac     44.1 kHz mono 16-bit clips made with sox (a sweep, seeded pink noise, a 1 s tone — shorter
                  than one block — and speech from espeak-ng resampled by sox)
  golden.json     {name: {"frames", "spectrogram": [frames][96] (normalised), "blocks": [[512]]}}
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "Tests", "Fixtures", "aisfx")
CLIPS = {
    "sweep": ["synth", "3", "sine", "100-8000", "vol", "0.5"],
    "pinknoise": ["synth", "4", "pinknoise", "vol", "0.3"],
    "tone1s": ["synth", "1", "sine", "440", "vol", "0.4"],
}


def module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def make_clips():
    os.makedirs(OUT, exist_ok=True)
    for name, effect in CLIPS.items():
        subprocess.run(["sox", "-R", "-n", "-r", "44100", "-c", "1", "-b", "16", os.path.join(OUT, name + ".flac")] + effect,
                       check=True)
    speech = os.path.join(REPO, "Tests", "Fixtures", "audio", "golden", "dog-en-us-22k.wav")
    subprocess.run(["sox", "-D", speech, "-r", "44100", "-b", "16", os.path.join(OUT, "speech.flac")], check=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--wheel", required=True, help="folder holding aisfx-0.1.2-py2.py3-none-any.whl")
    a = p.parse_args()
    make_clips()
    with tempfile.TemporaryDirectory() as tmp:
        zipfile.ZipFile(os.path.join(a.wheel, "aisfx-0.1.2-py2.py3-none-any.whl")).extractall(tmp)
        pkg = os.path.join(tmp, "aisfx")
        spectrogram = module(os.path.join(pkg, "spectrogram", "spectrogram_librosa.py"), "spectrogram_librosa")
        preprocessing = module(os.path.join(pkg, "preprocessing.py"), "preprocessing")
        cnn2d = module(os.path.join(pkg, "models", "cnn2d.py"), "cnn2d")
        weights, _ = torch.load(os.path.join(pkg, "models", "checkpoint.pth"), map_location="cpu", weights_only=False)
    net = cnn2d.EmbeddingNet("max", 3, 1, 64)
    net.load_state_dict({k[len("embedding_net."):]: v for k, v in weights.items() if k.startswith("embedding_net.")})
    net.eval()
    torch.set_num_threads(1)
    golden = {}
    for name in sorted(list(CLIPS) + ["speech"]):
        spec = spectrogram.compute_spectrogram(os.path.join(OUT, name + ".flac"), sr=44100, block_size=2048,
                                               hop_size=1024, n_mels=96, f_min=0.0, f_max=22050.0)
        spec = preprocessing.spectrogram_normalize(spec.T, spec_norm="original")  # (frames, 96)
        hop = preprocessing.compute_hopSize(100, 0.5, spec) if spec.shape[0] > 50 else 50
        blocks = preprocessing.blocking(spec, block_size=100, hop_size=hop, drop_partial_block=True)
        with torch.no_grad():
            emb = net(torch.tensor(blocks, dtype=torch.float32)).numpy()
        golden[name] = {"frames": int(spec.shape[0]),
                        "spectrogram": [[float(f"{v:.7g}") for v in row] for row in spec],
                        "blocks": [[float(f"{v:.7g}") for v in row] for row in emb]}
        print(name, spec.shape, emb.shape, file=sys.stderr)
    with open(os.path.join(OUT, "golden.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
