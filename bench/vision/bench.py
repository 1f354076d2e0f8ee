#!/usr/bin/env python3
"""Image-encoder throughput: Rosetta (Swift EfficientNet-Lite0) vs ONNX Runtime vs PyTorch, in one run.

All three run the same checkpoint (models/efficientnet-lite0) on the same random 224x224 inputs, forward pass to
logits, same thread count, batch 1 and 16, `--rounds` interleaved rounds; each runtime's best round is reported
(the least disturbed by other load on the machine), so the ratios are taken under the same conditions.
- PyTorch: efficientnet_lite_pytorch.EfficientNet (PyPI efficientnet-lite-pytorch, the reference of the golden
  tests) in eval + inference_mode with torch.set_num_threads(threads), NCHW float32.
- ONNX Runtime: an export of that module (torch.onnx.export, opset 17, dynamic batch; cached in
  .venv/onnx-cache/), intra_op_num_threads = threads, graph optimisation level ALL, CPU provider.
- Rosetta: rosetta-bench-vision (EfficientNetLite.forward, NHWC); its GFLOP/s (multiply-adds x2 of every
  convolution and the classifier, ~0.8 GFLOP per image) and % of the SGEMM peak the same binary measures
  (BenchSupport, as bench/text). Also Rosetta's decode+resize+crop rate for one committed photo.
- Rosetta bfloat16: the same with --precision bfloat16 where the CPU has AVX512-BF16, in the same rounds (its
  own columns; the target lines are float32's, the default).

Usage (see bench/vision/README.md; `make bench-vision` does all of it):
  bench/vision/setup-venv                    # creates bench/vision/.venv
  swift build -c release -Xswiftc -enable-testing --product rosetta-bench-vision
  bench/vision/.venv/bin/python bench/vision/bench.py --model models/efficientnet-lite0 \\
      --swift-bin .build/release/rosetta-bench-vision
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PHOTO = os.path.join(REPO, "Tests", "Fixtures", "images", "photos", "chelsea.jpg")


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default=os.path.join(REPO, "models", "efficientnet-lite0"))
    p.add_argument("--swift-bin", default=os.path.join(REPO, ".build", "release", "rosetta-bench-vision"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=2, help="per measurement")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batches", default="1,16")
    p.add_argument("--skip-torch", action="store_true")
    p.add_argument("--markdown", default="", help="append a section with the table to this file")
    return p.parse_args()


def rate(seconds, fn):
    """Calls per wall second of fn over `seconds` (after a warm-up call), and this process's CPU seconds per wall
    second meanwhile (all its threads: ORT's and PyTorch's pools run in-process)."""
    fn()
    n, start, cpu = 0, time.perf_counter(), time.process_time()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed, (time.process_time() - cpu) / elapsed


def swift(args, extra):
    cmd = [args.swift_bin, args.model, "--threads", str(args.threads), "--seconds", str(args.seconds)] + extra
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def load_torch(model_dir):
    from efficientnet_lite_pytorch import EfficientNet
    weights = os.path.join(model_dir, "efficientnet-lite0.pth")
    return EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights).eval()


def onnx_session(model, threads):
    """ONNX Runtime session on the export of `model` (exported once, cached in the venv)."""
    import onnxruntime as ort
    import torch
    cache = os.path.join(HERE, ".venv", "onnx-cache")
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, "efficientnet-lite0.onnx")
    if not os.path.exists(path):
        torch.onnx.export(model, torch.zeros(1, 3, 224, 224), path, input_names=["images"], output_names=["logits"],
                          opset_version=17, dynamo=False,
                          dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}})
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def main():
    args = parse_args()
    batches = [int(b) for b in args.batches.split(",")]

    import onnxruntime as ort
    import torch
    torch.set_num_threads(args.threads)
    model = load_torch(args.model)
    session = onnx_session(model, args.threads)

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import sgemm_peak
    sgemm = sgemm_peak.measure(lambda extra: swift(args, extra), args.rounds)
    print(sgemm_peak.header(sgemm, args, ort.__version__, torch.__version__))

    rng = np.random.default_rng(0)
    inputs = {b: rng.uniform(-1, 1, (b, 3, 224, 224)).astype(np.float32) for b in batches}
    names = ("rosetta", "bfloat16", "ort", "torch")
    best = {(name, b): 0.0 for name in names for b in batches}
    # Images per CPU-second of each runtime's best round: comparable even when other load takes cores.
    per_cpu = {(name, b): float("nan") for name in names for b in batches}
    gflops = {b: 0.0 for b in batches}
    decode = 0.0

    def record(name, b, images_per_s, cpu_per_s):
        if images_per_s > best[(name, b)]:
            best[(name, b)], per_cpu[(name, b)] = images_per_s, images_per_s / cpu_per_s
            return True
        return False

    for _ in range(args.rounds):
        for r in swift(args, ["--batches", args.batches, "--image", PHOTO]):
            if "batch" in r:
                if record("rosetta", r["batch"], r["images_per_s"], r.get("cpu_share", float("nan")) * args.threads):
                    gflops[r["batch"]] = r["gflops"]
            else:
                decode = max(decode, r["decode_preprocess_per_s"])
        for r in swift(args, ["--batches", args.batches, "--precision", "bfloat16"]):
            if r["precision"] == "bfloat16":  # else the CPU has no AVX512-BF16 and the columns stay nan
                record("bfloat16", r["batch"], r["images_per_s"], 1.0)
        for b in batches:
            x = inputs[b]
            calls, cpu = rate(args.seconds, lambda: session.run(None, {"images": x}))
            record("ort", b, b * calls, cpu)
            if not args.skip_torch:
                t = torch.from_numpy(x)
                with torch.inference_mode():
                    calls, cpu = rate(args.seconds, lambda: model(t))
                record("torch", b, b * calls, cpu)

    if args.skip_torch:
        best.update({("torch", b): float("nan") for b in batches})
    print(f"EfficientNet-Lite0 forward, 224x224, images/s (and images per CPU-second)")
    best.update({("bfloat16", b): float("nan") for b in batches if best[("bfloat16", b)] == 0})
    header = (f"{'batch':>5} | {'Rosetta':>9} {'ORT':>9} {'PyTorch':>9} | {'R/ORT':>6} {'R/PT':>6} | "
              f"{'GFLOP/s':>7} {'%peak':>6} | {'per CPU-s: Rosetta':>18} {'ORT':>7} {'R/ORT':>6} | "
              f"{'bfloat16':>9} {'bf/ORT':>6}")
    print(header + "\n" + "-" * len(header))
    for b in batches:
        r, o, t = best[("rosetta", b)], best[("ort", b)], best[("torch", b)]
        rc, oc = per_cpu[("rosetta", b)], per_cpu[("ort", b)]
        bf = best[("bfloat16", b)]
        print(f"{b:>5} | {r:>9.1f} {o:>9.1f} {t:>9.1f} | {r / o:>6.2f} {r / t:>6.2f} | "
              f"{gflops[b]:>7.1f} {100 * gflops[b] / sgemm['gflops']:>5.0f}% | {rc:>18.1f} {oc:>7.1f} {rc / oc:>6.2f} | "
              f"{bf:>9.1f} {bf / o:>6.2f}")
    print("per CPU-s: images per CPU-second used by the runtime's process in its best round (robust to other load "
          "taking the cores, not to its effect on the shared caches)")
    print(f"\nRosetta decode+resize(256)+crop(224) of a 320x213 JPEG: {decode:.0f}/s")
    write_markdown(args, [(b, best[("rosetta", b)], best[("ort", b)], best[("torch", b)], gflops[b],
                           per_cpu[("rosetta", b)], per_cpu[("ort", b)], best[("bfloat16", b)]) for b in batches],
                   sgemm, decode)


def write_markdown(args, rows, sgemm, decode):
    """Appends the table and the issue #9 target lines (Rosetta >= 1.2x ONNX Runtime) to args.markdown."""
    if not args.markdown:
        return
    sys.path.insert(0, os.path.dirname(HERE))
    import markdown
    import sgemm_peak
    table = markdown.table(
        ["batch", "Rosetta", "ORT", "PyTorch", "Rosetta / ORT", "Rosetta / PyTorch", "GFLOP/s", "% SGEMM peak",
         "per CPU-s: Rosetta", "ORT", "Rosetta / ORT", "Rosetta bfloat16", "bfloat16 / ORT"],
        [[b, f"{r:.1f}", f"{o:.1f}", f"{t:.1f}", f"{r / o:.2f}", f"{r / t:.2f}", f"{g:.1f}",
          f"{100 * g / sgemm['gflops']:.0f}%", f"{rc:.1f}", f"{oc:.1f}", f"{rc / oc:.2f}", f"{bf:.1f}", f"{bf / o:.2f}"]
         for b, r, o, t, g, rc, oc, bf in rows])
    targets = [markdown.target(f"image encoder >= 1.2x ONNX Runtime (batch {b})", r / o >= 1.2,
                               f"{r:.1f} vs {o:.1f} images/s = {r / o:.2f}x; per CPU-second {rc / oc:.2f}x")
               for b, r, o, _, _, rc, oc, _ in rows]
    markdown.append(args.markdown, "Image encoder: Rosetta vs ONNX Runtime and PyTorch (bench/vision)",
                    f"EfficientNet-Lite0 forward, 224x224, images/s, {args.threads} threads, best of {args.rounds} "
                    f"rounds; {sgemm_peak.describe(sgemm)}; Rosetta decode+resize+crop of a 320x213 "
                    f"JPEG: {decode:.0f}/s; load average: {os.getloadavg()[0]:.1f}. Rosetta float32 (the default; "
                    "the target lines) and with `--precision bfloat16` (AVX512-BF16 dense layers; logits' cosine to "
                    "PyTorch >= 0.9997; nan: the CPU has no AVX512-BF16).\n\n"
                    + table + "\n\n" + "\n".join(targets))


if __name__ == "__main__":
    sys.exit(main())
