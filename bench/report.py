#!/usr/bin/env python3
"""Assembles bench/results.md for `make bench`.

  report.py begin FILE          writes the header: date, machine (lscpu, memory, kernel), OpenBLAS environment
  report.py failed FILE NAME    notes that bench NAME failed (its section is then missing)
  report.py finish FILE         puts a summary of every target line (markdown.TARGET_PREFIX) after the header

Between begin and finish each bench appends its own section (bench.py --markdown FILE).
"""
import datetime
import os
import platform
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import markdown  # noqa: E402

SUMMARY_MARK = "<!-- targets -->"


def lscpu():
    fields = {}
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def memory_gib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    return 0.0


def begin(path):
    cpu = lscpu()
    env = ", ".join(f"{k}={os.environ.get(k, '(unset)')}" for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                                                      "OPENBLAS_NUM_THREADS"))
    lines = [
        "# Rosetta benchmark results",
        "",
        f"Written by `make bench` on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}. Every ratio "
        "compares runtimes measured in the same run on this machine; absolute numbers depend on the load of the "
        "machine (a shared VM: see the load averages in each section).",
        "",
        f"- CPU: {cpu.get('Model name', '?')}; {cpu.get('CPU(s)', '?')} logical CPUs "
        f"({cpu.get('Thread(s) per core', '?')} thread(s) per core, {cpu.get('Core(s) per socket', '?')} core(s) "
        f"per socket); flags include avx2: {'avx2' in cpu.get('Flags', '')}, avx512f: {'avx512f' in cpu.get('Flags', '')}",
        f"- Memory: {memory_gib():.1f} GiB; kernel {platform.release()}; {platform.freedesktop_os_release().get('PRETTY_NAME', '')}",
        f"- OpenBLAS environment: {env}",
        f"- Load average at the start: {os.getloadavg()[0]:.1f}",
        "",
        SUMMARY_MARK,
    ]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def failed(path, name):
    markdown.append(path, f"{name}: failed", f"`make {name}` failed in this run; its numbers are missing.\n\n"
                    + markdown.target(f"{name} ran", False, "see the make output"))


def finish(path):
    with open(path) as f:
        text = f.read()
    targets = [line[len(markdown.TARGET_PREFIX):] for line in text.splitlines()
               if line.startswith(markdown.TARGET_PREFIX)]
    met = sum("**met**" in t for t in targets)
    summary = [f"## Targets of issue #9: {met} of {len(targets)} met", ""] + [f"- {t}" for t in targets]
    text = text.replace(SUMMARY_MARK, "\n".join(summary), 1)
    with open(path, "w") as f:
        f.write(text)
    print(f"{path}: {met} of {len(targets)} targets met")


def main():
    command, path = sys.argv[1], sys.argv[2]
    if command == "begin":
        begin(path)
    elif command == "failed":
        failed(path, sys.argv[3])
    elif command == "finish":
        finish(path)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
