#!/usr/bin/env python3
"""Text-encoder throughput: Rosetta (Swift BERT over OpenBLAS) vs ONNX Runtime vs PyTorch, in one run.

For each (tokens, batch) configuration the three runtimes run back to back on identical shapes (random word-piece
ids, exactly `tokens` ids per sentence incl. [CLS]/[SEP], attention mask all ones) with the same thread count,
`--rounds` times interleaved; each runtime's best round is reported (the least disturbed by other load on the
machine), so the ratios are taken under the same conditions. Output: sentences/s for each, Rosetta/ORT and
Rosetta/PyTorch ratios, Rosetta's GFLOP/s and its % of the SGEMM peak the Swift bench measures with the same
OpenBLAS (a 1536^3 SGEMM). Where the CPU has AVX512-BF16, Rosetta also runs with --precision bfloat16 in the same
rounds (its own columns; the target lines are float32's, the default).

All three compute the encoder's last_hidden_state (no pooling): ORT runs an ONNX export of the same checkpoint
(torch.onnx.export, opset 17, graph optimisation level ALL), PyTorch runs transformers.BertModel in eval +
inference_mode.

Usage (see bench/text/README.md; `make bench-text` does all of it):
  bench/text/setup-venv                      # creates bench/text/.venv
  swift build -c release --product rosetta-bench-text
  bench/text/.venv/bin/python bench/text/bench.py --model models/all-minilm-l6-v2 --swift-bin .build/release/rosetta-bench-text
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="models/all-minilm-l6-v2")
    p.add_argument("--swift-bin", default=".build/release/rosetta-bench-text")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=1.5, help="per measurement")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batches", default="1,8,32")
    p.add_argument("--lengths", default="16,128")
    p.add_argument("--skip-torch", action="store_true")
    p.add_argument("--markdown", default="", help="append a section with the table to this file")
    return p.parse_args()


def rate(seconds, fn):
    fn()
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def flops_per_sentence(cfg, tokens):
    d, dff, layers = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    return layers * (2 * tokens * d * (4 * d + 2 * dff) + 4 * tokens * tokens * d)


class SwiftBench:
    """The Swift bench in --serve mode: model loaded once, one measurement per request line."""

    def __init__(self, args, precision="float32"):
        cmd = [args.swift_bin, args.model, "--threads", str(args.threads), "--skip-sgemm", "--serve",
               "--precision", precision]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def measure(self, batch, tokens, seconds):
        self.proc.stdin.write(f"{batch} {tokens} {seconds}\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def precision(self):
        """What the model actually runs in (bfloat16 falls back to float32 without AVX512-BF16)."""
        return self.measure(1, 16, 0.05)["precision"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def swift(args, extra):
    cmd = [args.swift_bin, args.model, "--threads", str(args.threads), "--seconds", str(args.seconds)] + extra
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def export_onnx(model_dir, path):
    import torch
    from transformers import BertModel

    class Wrapper(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            return self.m(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    model = BertModel.from_pretrained(model_dir).eval()
    ids = torch.randint(1000, 29000, (1, 16))
    axes = {0: "batch", 1: "seq"}
    torch.onnx.export(Wrapper(model), (ids, torch.ones_like(ids)), path, input_names=["input_ids", "attention_mask"],
                      output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                      dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes})


def main():
    args = parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    lengths = [int(n) for n in args.lengths.split(",")]
    with open(os.path.join(args.model, "config.json")) as f:
        cfg = json.load(f)

    import onnxruntime as ort
    import torch
    from transformers import BertModel

    torch.set_num_threads(args.threads)
    cache = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".venv", "onnx-cache")
    os.makedirs(cache, exist_ok=True)
    onnx_path = os.path.join(cache, os.path.basename(os.path.normpath(args.model)) + ".onnx")
    if not os.path.exists(onnx_path):
        export_onnx(args.model, onnx_path)
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
    torch_model = None if args.skip_torch else BertModel.from_pretrained(args.model).eval()

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import sgemm_peak
    sgemm = sgemm_peak.measure(lambda extra: swift(args, extra), args.rounds)
    print(sgemm_peak.header(sgemm, args, ort.__version__, torch.__version__))
    header = (f"{'tokens':>6} {'batch':>5} | {'Rosetta':>9} {'ORT':>9} {'PyTorch':>9} | {'R/ORT':>6} {'R/PT':>6} | "
              f"{'GFLOP/s':>7} {'%peak':>6} | {'bfloat16':>9} {'bf/ORT':>6}")
    print("sentences/s\n" + header + "\n" + "-" * len(header))
    rng = np.random.default_rng(0)
    rosetta, bfloat16 = SwiftBench(args), SwiftBench(args, "bfloat16")
    if bfloat16.precision() != "bfloat16":
        print("(no AVX512-BF16 on this CPU: no bfloat16 columns)")
        bfloat16.close()
        bfloat16 = None
    rows = []
    for tokens in lengths:
        for batch in batches:
            ids = rng.integers(1000, 29000, size=(batch, tokens), dtype=np.int64)
            ids[:, 0], ids[:, -1] = 101, 102
            mask = np.ones_like(ids)
            ti, tm = torch.from_numpy(ids), torch.from_numpy(mask)
            r = o = t = b16 = 0.0
            for _ in range(args.rounds):
                r = max(r, rosetta.measure(batch, tokens, args.seconds)["sentences_per_s"])
                if bfloat16 is not None:
                    b16 = max(b16, bfloat16.measure(batch, tokens, args.seconds)["sentences_per_s"])
                o = max(o, rate(args.seconds, lambda: session.run(None, {"input_ids": ids, "attention_mask": mask})) * batch)
                if torch_model is not None:
                    with torch.inference_mode():
                        t = max(t, rate(args.seconds, lambda: torch_model(input_ids=ti, attention_mask=tm)) * batch)
            t = t if torch_model is not None else float("nan")
            b16 = b16 if bfloat16 is not None else float("nan")
            gflops = r * flops_per_sentence(cfg, tokens) / 1e9
            print(f"{tokens:>6} {batch:>5} | {r:>9.1f} {o:>9.1f} {t:>9.1f} | {r / o:>6.2f} {r / t:>6.2f} | "
                  f"{gflops:>7.1f} {100 * gflops / sgemm['gflops']:>5.0f}% | {b16:>9.1f} {b16 / o:>6.2f}", flush=True)
            rows.append((tokens, batch, r, o, t, gflops, b16))
    rosetta.close()
    if bfloat16 is not None:
        bfloat16.close()
    write_markdown(args, rows, sgemm)


def write_markdown(args, rows, sgemm):
    """Appends the table and the issue #9 target lines (Rosetta >= 1.2x ONNX Runtime) to args.markdown."""
    if not args.markdown:
        return
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import markdown
    import sgemm_peak
    table = markdown.table(
        ["tokens", "batch", "Rosetta", "ORT", "PyTorch", "Rosetta / ORT", "Rosetta / PyTorch", "GFLOP/s", "% SGEMM peak",
         "Rosetta bfloat16", "bfloat16 / ORT"],
        [[n, b, f"{r:.1f}", f"{o:.1f}", f"{t:.1f}", f"{r / o:.2f}", f"{r / t:.2f}", f"{g:.1f}",
          f"{100 * g / sgemm['gflops']:.0f}%", f"{b16:.1f}", f"{b16 / o:.2f}"] for n, b, r, o, t, g, b16 in rows])
    targets = [markdown.target(f"text encoder >= 1.2x ONNX Runtime ({n} tokens, batch {b})", r / o >= 1.2,
                               f"{r:.1f} vs {o:.1f} sentences/s = {r / o:.2f}x") for n, b, r, o, _, _, _ in rows]
    markdown.append(args.markdown, "Text encoder: Rosetta vs ONNX Runtime and PyTorch (bench/text)",
                    f"all-MiniLM-L6-v2 forward, sentences/s, {args.threads} threads, best of {args.rounds} rounds; "
                    f"{sgemm_peak.describe(sgemm)}; load average: {os.getloadavg()[0]:.1f}. Rosetta float32 (the "
                    "default; the target lines) and with `--precision bfloat16` (AVX512-BF16 dense layers, cosine to "
                    "float32 >= 0.9999 on MiniLM; nan: the CPU has no AVX512-BF16).\n\n"
                    + table + "\n\n" + "\n".join(targets))


if __name__ == "__main__":
    sys.exit(main())
