"""The SGEMM peak and run header shared by bench/text and bench/vision: their Swift bench measures the peak
(`--sgemm-only`, bench/common/swift BenchSupport), the best of `rounds` counts."""
import os


def measure(run_swift, rounds):
    """run_swift(extra_args) -> the Swift bench's JSON lines; the best of `rounds` SGEMM peak lines."""
    return max((run_swift(["--sgemm-only"])[0] for _ in range(rounds)), key=lambda s: s["gflops"])


def header(sgemm, args, ort_version, torch_version):
    """Machine, OpenBLAS environment, the SGEMM peak, runtime versions and the rounds, as printed before a table."""
    return "\n".join([
        f"machine: {os.cpu_count()} CPUs; threads per runtime: {args.threads}; "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')} "
        f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '(unset)')}",
        f"SGEMM peak (OpenBLAS {sgemm['core']}, {sgemm['n']}^3, {args.threads} threads, best of {args.rounds}): "
        f"{sgemm['gflops']:.1f} GFLOP/s (OpenBLAS-threaded {sgemm['blas_threaded_gflops']:.1f}, "
        f"{args.threads} concurrent single-threaded {sgemm['concurrent_gflops']:.1f})",
        f"onnxruntime {ort_version}, torch {torch_version}; best of {args.rounds} interleaved rounds of "
        f"{args.seconds:g} s per runtime; load average before: {os.getloadavg()[0]:.1f}\n",
    ])
