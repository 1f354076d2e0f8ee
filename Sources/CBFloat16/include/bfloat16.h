#pragma once
// bfloat16 products for PackedGEMM on CPUs with AVX512-BF16 (Swift has no bfloat16 type or dot-product
// intrinsics). bfloat16 is the upper half of a float32: 8 exponent bits, 8 significand bits.
#include <stdint.h>

// Call only where CCPU's rosetta_has_avx512_bf16() is 1.

// dst[i] = src[i] rounded to the nearest bfloat16 (ties to even), i < count. AVX512-BF16 only.
void rosetta_bf16_round(const float *src, long count, uint16_t *dst);

// acc[r][0..<16·panels] += Σ_p a_r[2p]·b[p][j][0] + a_r[2p+1]·b[p][j][1] for r < rows (≤ 8), p < pairs: one
// register tile of C (8 rows × 32 columns, row stride 32 in acc) over one or two panels of B packed as bfloat16
// pairs [pairs][16][2] (b1 is read only when panels == 2). Row r of A is a + r·lda, bfloat16 values (lda even).
// Each step also prefetches the line `prefetch` bytes after the b0 and b1 rows it reads (0: no prefetch).
// AVX512-BF16 only.
void rosetta_bf16_tile(int rows, int panels, long pairs, const uint16_t *a, long lda, const uint16_t *b0,
                       const uint16_t *b1, long prefetch, float *acc);
