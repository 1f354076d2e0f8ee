#!/usr/bin/env python3
"""Image-encoder throughput: Rosetta (Swift EfficientNet-Lite0 over OpenBLAS) vs PyTorch, in one run.

Both run the same checkpoint (models/efficientnet-lite0) on random 224x224 inputs, forward pass to logits, same
thread count, batch 1 and 16, `--rounds` interleaved rounds; each runtime's best round is reported. PyTorch runs
efficientnet_lite_pytorch.EfficientNet (PyPI efficientnet-lite-pytorch, the reference of the golden tests) in eval
+ inference_mode with torch.set_num_threads(threads), NCHW float32. Also prints Rosetta's decode+resize+crop rate
for one committed photo, and the FLOPs of one forward (lite0: ~0.8 GFLOP of multiply-adds x2).

Usage:
  swift build -c release --product rosetta-bench-vision
  python bench/vision/bench.py --swift-bin .build/release/rosetta-bench-vision   # in a venv with torch,
        # numpy and efficientnet-lite-pytorch (pip install --no-deps efficientnet-lite-pytorch)
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rate(seconds, fn):
    fn()
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def swift(bin_, model, batches, seconds, threads, image=None):
    cmd = [bin_, model, "--batches", ",".join(map(str, batches)), "--seconds", str(seconds), "--threads", str(threads)]
    if image:
        cmd += ["--image", image]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default=os.path.join(REPO, "models", "efficientnet-lite0"))
    p.add_argument("--swift-bin", default=os.path.join(REPO, ".build", "release", "rosetta-bench-vision"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=3)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--batches", default="1,16")
    a = p.parse_args()
    batches = [int(b) for b in a.batches.split(",")]

    import torch
    from efficientnet_lite_pytorch import EfficientNet
    torch.set_num_threads(a.threads)
    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=os.path.join(a.model, "efficientnet-lite0.pth")).eval()
    best = {("rosetta", b): 0.0 for b in batches} | {("pytorch", b): 0.0 for b in batches}
    decode = 0.0
    photo = os.path.join(REPO, "Tests", "Fixtures", "images", "photos", "chelsea.jpg")
    for _ in range(a.rounds):
        for r in swift(a.swift_bin, a.model, batches, a.seconds, a.threads, photo):
            if "batch" in r:
                best[("rosetta", r["batch"])] = max(best[("rosetta", r["batch"])], r["images_per_s"])
            else:
                decode = max(decode, r["decode_preprocess_per_s"])
        for b in batches:
            x = torch.from_numpy(np.random.uniform(-1, 1, (b, 3, 224, 224)).astype(np.float32))
            with torch.inference_mode():
                best[("pytorch", b)] = max(best[("pytorch", b)], b * rate(a.seconds, lambda: model(x)))
    print(f"EfficientNet-Lite0 forward, 224x224, {a.threads} threads (images/s, best of {a.rounds} rounds)")
    print(f"{'batch':>6} {'rosetta':>10} {'pytorch':>10} {'ratio':>7}")
    for b in batches:
        r, t = best[("rosetta", b)], best[("pytorch", b)]
        print(f"{b:>6} {r:>10.1f} {t:>10.1f} {r / t:>7.2f}")
    print(f"Rosetta decode+resize+crop of a 320x213 JPEG: {decode:.0f}/s")


if __name__ == "__main__":
    sys.exit(main())
