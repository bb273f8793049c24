/*
 * Deterministic random numbers: xoshiro256** seeded through splitmix64.
 * Same seed → same stream on every platform and for any thread count.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>

#include "core-priv.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void splut__rng_seed(splut_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t splut__rng_next(splut_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t splut__rng_below(splut_rng *r, uint64_t n)
{
    if (n <= 1)
        return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = splut__rng_next(r);
    while (x >= limit);
    return x % n;
}

double splut__rng_uniform(splut_rng *r)
{
    return (double)(splut__rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

double splut__rng_normal(splut_rng *r)
{
    double u1 = splut__rng_uniform(r), u2 = splut__rng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
