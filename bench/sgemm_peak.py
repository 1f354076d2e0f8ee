"""The SGEMM peak and run header shared by bench/text and bench/vision: their Swift bench measures the peak
(`--sgemm-only`, bench/common/swift BenchSupport), the best of `rounds` counts, twice: with the OpenBLAS kernel
the environment pins (the Makefile's OPENBLAS_CORETYPE=Haswell: AVX2) and with OpenBLAS's own choice (both
variables unset for those runs only; on AVX-512 machines its 512-bit kernel runs ~2x the Haswell one). The larger
is the peak that "% of SGEMM peak" refers to."""
import os

OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def measure(run_swift, rounds):
    """run_swift(extra_args) -> the Swift bench's JSON lines; the best SGEMM peak line of either kernel choice,
    with both results under "pinned" and "own"."""
    def best():
        return max((run_swift(["--sgemm-only"])[0] for _ in range(rounds)), key=lambda s: s["gflops"])
    pinned = best()
    saved = {v: os.environ.pop(v) for v in OPENBLAS_VARIABLES if v in os.environ}
    try:
        own = best() if saved else pinned
    finally:
        os.environ.update(saved)
    return dict(max(pinned, own, key=lambda s: s["gflops"]), pinned=pinned, own=own)


def describe(sgemm):
    """One phrase for a table's caption: the peak and where it came from."""
    pinned, own = sgemm["pinned"], sgemm["own"]
    return (f"SGEMM peak {sgemm['gflops']:.1f} GFLOP/s (OpenBLAS {sgemm['core']}; with the environment's "
            f"{pinned['core']} kernel {pinned['gflops']:.1f}, with OpenBLAS's own choice {own['core']} "
            f"{own['gflops']:.1f})")


def header(sgemm, args, ort_version, torch_version):
    """Machine, OpenBLAS environment, the SGEMM peak, runtime versions and the rounds, as printed before a table."""
    return "\n".join([
        f"machine: {os.cpu_count()} CPUs; threads per runtime: {args.threads}; "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')} "
        f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '(unset)')}",
        f"{describe(sgemm)}, {sgemm['n']}^3, {args.threads} threads, best of {args.rounds} "
        f"(OpenBLAS-threaded {sgemm['blas_threaded_gflops']:.1f}, {args.threads} concurrent single-threaded "
        f"{sgemm['concurrent_gflops']:.1f}; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for the own-choice runs)",
        f"onnxruntime {ort_version}, torch {torch_version}; best of {args.rounds} interleaved rounds of "
        f"{args.seconds:g} s per runtime; load average before: {os.getloadavg()[0]:.1f}\n",
    ])
