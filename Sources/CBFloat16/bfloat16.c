#include "bfloat16.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

BF16 void rosetta_bf16_round(const float *src, long count, uint16_t *dst) {
    long i = 0;
    for (; i + 32 <= count; i += 32) {
        __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + i + 16), _mm512_loadu_ps(src + i));
        _mm512_storeu_si512(dst + i, (__m512i)v);
    }
    for (; i < count; i += 16) {
        __mmask16 m = count - i >= 16 ? 0xFFFF : (__mmask16)((1u << (count - i)) - 1);
        __m256bh v = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + i));
        _mm256_mask_storeu_epi16(dst + i, m, (__m256i)v);
    }
}

// The tile for a fixed row count and panel count: the compiler unrolls the row loops and keeps the 8 × 2
// accumulators in registers (16 of 32; with the two panel rows and a broadcast, 19).
static inline __attribute__((always_inline)) BF16 void tile(const int rows, const int panels, long pairs,
                                                            const uint16_t *a, long lda, const uint16_t *b0,
                                                            const uint16_t *b1, long prefetch, float *acc) {
    __m512 c[8][2];
    const uint32_t *row[8];
    for (int r = 0; r < rows; r++) {
        row[r] = (const uint32_t *)(a + r * lda);
        for (int q = 0; q < panels; q++) c[r][q] = _mm512_loadu_ps(acc + r * 32 + q * 16);
    }
    for (long p = 0; p < pairs; p++) {
        if (prefetch) {
            _mm_prefetch((const char *)(b0 + p * 32) + prefetch, _MM_HINT_T0);
            if (panels == 2) _mm_prefetch((const char *)(b1 + p * 32) + prefetch, _MM_HINT_T0);
        }
        __m512bh x = (__m512bh)_mm512_loadu_si512(b0 + p * 32);
        __m512bh y = panels == 2 ? (__m512bh)_mm512_loadu_si512(b1 + p * 32) : x;
        for (int r = 0; r < rows; r++) {
            __m512bh s = (__m512bh)_mm512_set1_epi32((int)row[r][p]);
            c[r][0] = _mm512_dpbf16_ps(c[r][0], s, x);
            if (panels == 2) c[r][1] = _mm512_dpbf16_ps(c[r][1], s, y);
        }
    }
    for (int r = 0; r < rows; r++)
        for (int q = 0; q < panels; q++) _mm512_storeu_ps(acc + r * 32 + q * 16, c[r][q]);
}

#define TILE(R)                                                                                  \
    case R:                                                                                      \
        if (panels == 2) tile(R, 2, pairs, a, lda, b0, b1, prefetch, acc);                       \
        else tile(R, 1, pairs, a, lda, b0, b1, prefetch, acc);                                   \
        return;

BF16 void rosetta_bf16_tile(int rows, int panels, long pairs, const uint16_t *a, long lda, const uint16_t *b0,
                            const uint16_t *b1, long prefetch, float *acc) {
    switch (rows) {
        TILE(1) TILE(2) TILE(3) TILE(4) TILE(5) TILE(6) TILE(7) TILE(8)
    }
}

#else
void rosetta_bf16_round(const float *src, long count, uint16_t *dst) { (void)src; (void)count; (void)dst; }
void rosetta_bf16_tile(int rows, int panels, long pairs, const uint16_t *a, long lda, const uint16_t *b0,
                       const uint16_t *b1, long prefetch, float *acc) {
    (void)rows; (void)panels; (void)pairs; (void)a; (void)lda; (void)b0; (void)b1; (void)prefetch; (void)acc;
}
#endif
