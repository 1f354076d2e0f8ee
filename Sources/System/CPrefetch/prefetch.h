#pragma once
// A software prefetch, which Swift cannot express: the compiler builtin behind _mm_prefetch (a macro, so not
// importable). Read access, kept in all cache levels; never faults, whatever the address.
static inline __attribute__((always_inline)) void rosetta_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}
