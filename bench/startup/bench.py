#!/usr/bin/env python3
"""Cold start and memory of rosetta-server on the default models.

startup-probe (probe.cc, built by bench/rpc/build) execs rosetta-server --models-dir MODELS --in-memory on a free
port and measures, from the exec: the "listening" line (transport up), health SERVING (models loaded) and the
first text Embed answered; then RSS (/proc/<pid>/status VmRSS, split into RssAnon = private allocations and
RssFile = mapped files, plus the peak VmHWM) right after that first answer, and again after warm-up traffic (300
text Embeds at batch 1 and 32, images through the default image model, speech through Whisper, a sound through
aiSFX). `--runs` starts; times are the median (the files are in the page cache after the first start: this is a
warm-cache start, the case of a restart on the same machine).

Weight bytes = the sizes of the weight files of the models the server loads (every model of the manifest whose
folder is there: Info lists only the embedding spaces, not the bridges' models, Whisper and EfficientNet-Lite; per
folder: *.safetensors and model.bin; the .pth sources are converted at fetch time and never read by the server).
Targets of issue #9: cold start (exec to first Embed answered) < 1 s; RSS after warm-up <= 1.3x weight bytes.

Usage (`make bench-startup` builds and runs it):
  bench/rpc/build
  python3 bench/startup/bench.py --server .build/release/rosetta-server --models-dir models [--runs 5]
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
import markdown  # noqa: E402

PROBE = os.path.join(BENCH, ".build-cpp", "startup-probe")
FIXTURES = os.path.join(REPO, "Tests", "Fixtures")
WARM_MEDIA = [
    "image::" + os.path.join(FIXTURES, "images", "photos", "horse.jpg"),
    "image::" + os.path.join(FIXTURES, "images", "photos", "clock.jpg"),
    "audio::" + os.path.join(FIXTURES, "audio", "golden", "dog-en-us.flac"),
    "audio::" + os.path.join(FIXTURES, "audio", "golden", "rain-en-gb.flac"),
    "audio:aisfx:" + os.path.join(FIXTURES, "aisfx", "pinknoise.flac"),
]
WEIGHT_PATTERNS = ("*.safetensors", "model.bin")
COLD_START_TARGET_S = 1.0
RSS_TARGET_RATIO = 1.3


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--server", default=".build/release/rosetta-server")
    p.add_argument("--models-dir", default="models")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--markdown", default="", help="append a section with the results to this file")
    return p.parse_args()


def probe(args):
    log = os.path.join(BENCH, ".build-cpp", "logs", "startup-server.log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    cmd = [PROBE, "--sentences", os.path.join(BENCH, "rpc", "sentences.txt"), "--log", log]
    for media in WARM_MEDIA:
        cmd += ["--media", media]
    cmd += ["--", os.path.abspath(args.server), "--address", "127.0.0.1:0", "--models-dir", args.models_dir,
            "--in-memory"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"startup-probe failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def manifest_models(models_dir):
    """Ids of the manifest's models whose folders exist (the server loads each of them)."""
    with open(os.path.join(models_dir, "manifest.json")) as f:
        ids = [m["id"] for m in json.load(f)["models"]]
    return [m for m in ids if os.path.isdir(os.path.join(models_dir, m))]


def weight_files(models_dir, model_ids):
    files = []
    for model in model_ids:
        for pattern in WEIGHT_PATTERNS:
            files += glob.glob(os.path.join(models_dir, model, pattern))
    return sorted(set(files))


def mib(n):
    return f"{n / 2**20:.1f} MiB"


def main():
    args = parse_args()
    runs = [probe(args) for _ in range(args.runs)]
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0] if isinstance(runs[0][k], (int, float))}
    models = manifest_models(args.models_dir)
    files = weight_files(args.models_dir, models)
    weights = sum(os.path.getsize(f) for f in files)
    per_model = {m: sum(os.path.getsize(f) for f in files if f.startswith(os.path.join(args.models_dir, m) + os.sep))
                 for m in models}

    intro = (f"rosetta-server --models-dir {args.models_dir} --in-memory, {args.runs} starts (median; warm page "
             f"cache); models loaded: {', '.join(f'{m} ({mib(b)})' for m, b in per_model.items())}; weight bytes "
             f"{weights:,} ({mib(weights)}; {', '.join(os.path.relpath(f, args.models_dir) for f in files)}). "
             f"Warm-up: {runs[0]['warm_requests']} Embeds (text batch 1 and 32, 2 images, 2 speech clips, 1 aiSFX "
             f"sound); load average: {os.getloadavg()[0]:.1f}.")
    times = markdown.table(
        ["from exec to", "median ms", "min ms", "max ms"],
        [[label, f"{median[k]:.0f}", f"{min(r[k] for r in runs):.0f}", f"{max(r[k] for r in runs):.0f}"]
         for label, k in [("transport listening", "listening_ms"), ("health SERVING", "serving_ms"),
                          ("first Embed answered", "first_embed_ms")]])
    memory = markdown.table(
        ["when", "RSS", "anonymous", "file-backed", "peak (VmHWM)", "RSS / weight bytes"],
        [[label, mib(median[f"{p}VmRSS"]), mib(median[f"{p}RssAnon"]), mib(median[f"{p}RssFile"]),
          mib(median[f"{p}VmHWM"]), f"{median[f'{p}VmRSS'] / weights:.2f}"]
         for label, p in [("after the first Embed", "loaded_"), ("after warm-up", "warm_")]])
    cold = median["first_embed_ms"] / 1000
    ratio = median["warm_VmRSS"] / weights
    targets = [
        markdown.target(f"cold start (exec to first Embed answered) < {COLD_START_TARGET_S:g} s",
                        cold < COLD_START_TARGET_S,
                        f"{cold:.3f} s; health SERVING at {median['serving_ms'] / 1000:.3f} s"),
        markdown.target(f"RSS after warm-up <= {RSS_TARGET_RATIO}x weight bytes", ratio <= RSS_TARGET_RATIO,
                        f"{mib(median['warm_VmRSS'])} / {mib(weights)} = {ratio:.2f}x"),
    ]
    body = "\n\n".join([intro, times, memory, "\n".join(targets)])
    print(body)
    markdown.append(args.markdown, "Cold start and memory (bench/startup)", body)


if __name__ == "__main__":
    sys.exit(main())
