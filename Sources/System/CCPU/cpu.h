#pragma once
// What Swift cannot express about the CPU: a software prefetch, whether 512-bit vectors can be used and whether
// the CPU multiplies bfloat16.

#if defined(__x86_64__)
#include <cpuid.h>
#endif

// A software prefetch: the compiler builtin behind _mm_prefetch (a macro, so not importable). Read access, kept
// in all cache levels; never faults, whatever the address.
static inline __attribute__((always_inline)) void rosetta_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

// 1 when the CPU has AVX-512F and the operating system saves its registers (XCR0: opmask, upper halves of
// zmm0-15, zmm16-31), else 0. cpuid and xgetbv directly: no runtime library behind it.
static inline int rosetta_has_avx512(void) {
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0;  // OSXSAVE
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 16))) return 0;  // AVX512F
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0xE6) == 0xE6;  // SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM state
#else
    return 0;
#endif
}

// 1 when the 512-bit registers can be used (rosetta_has_avx512) and the CPU has AVX512-BW and AVX512-BF16
// (vdpbf16ps, vcvtne2ps2bf16: the kernels of CBFloat16), else 0.
static inline int rosetta_has_avx512_bf16(void) {
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (!rosetta_has_avx512()) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 30))) return 0;  // AVX512BW
    return __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 5));  // AVX512_BF16
#else
    return 0;
#endif
}
