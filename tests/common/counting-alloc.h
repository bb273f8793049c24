/*
 * The counting allocator every test uses to find leaks and out-of-memory
 * paths: it counts attempts, live blocks and the largest request, can fail one
 * chosen attempt, and can refuse requests above a size cap.
 *
 * Sweep pattern:
 *     for (long k = 0;; k++) {
 *         counting_fail_at(&ca, k);   // fail attempt k from now on (0-based)
 *         st = call();
 *         counting_disarm(&ca);
 *         if (st == SPLUT_OK) break;  // k ran past the call's last allocation
 *         ... st is SPLUT_E_NOMEM and ca.live is unchanged ...
 *     }
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SPLUT_TEST_COUNTING_ALLOC_H
#define SPLUT_TEST_COUNTING_ALLOC_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sparselut/sparselut.h"

typedef struct counting_alloc {
    long calls;      /* attempts since creation or the last counting_fail_at() */
    long fail_at;    /* fail the attempt with this 0-based number in calls; -1: never */
    long failures;   /* attempts failed on purpose */
    long allocs, frees, live; /* blocks handed out, released, still held */
    size_t largest;  /* largest size requested */
    size_t max_size; /* refuse (counting in over_cap) requests above this; 0: no cap */
    long over_cap;
    pthread_mutex_t lock; /* worker threads allocate and free through it too */
} counting_alloc;

static inline void *counting_alloc_fn(void *user, size_t size, size_t align)
{
    counting_alloc *c = user;
    pthread_mutex_lock(&c->lock);
    long call = c->calls++;
    if (size > c->largest)
        c->largest = size;
    int refuse = 0;
    if (c->max_size && size > c->max_size) {
        c->over_cap++;
        refuse = 1;
    } else if (call == c->fail_at) {
        c->failures++;
        refuse = 1;
    }
    pthread_mutex_unlock(&c->lock);
    void *p = NULL;
    if (refuse ||
        posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size ? size : 1))
        return NULL;
    pthread_mutex_lock(&c->lock);
    c->allocs++;
    c->live++;
    pthread_mutex_unlock(&c->lock);
    return p;
}

static inline void counting_free_fn(void *user, void *p)
{
    counting_alloc *c = user;
    if (!p)
        return;
    pthread_mutex_lock(&c->lock);
    c->frees++;
    c->live--;
    pthread_mutex_unlock(&c->lock);
    free(p);
}

/* Reset the counters and return hooks that use them. */
static inline splut_allocator counting_allocator(counting_alloc *c)
{
    memset(c, 0, sizeof(*c));
    c->fail_at = -1;
    pthread_mutex_init(&c->lock, NULL);
    splut_allocator a = {counting_alloc_fn, counting_free_fn, c};
    return a;
}

/* Fail attempt k (0-based) counted from now. */
static inline void counting_fail_at(counting_alloc *c, long k)
{
    pthread_mutex_lock(&c->lock);
    c->calls = 0;
    c->fail_at = k;
    pthread_mutex_unlock(&c->lock);
}

static inline void counting_disarm(counting_alloc *c)
{
    pthread_mutex_lock(&c->lock);
    c->fail_at = -1;
    pthread_mutex_unlock(&c->lock);
}

/* A context on fresh counters with one thread (pool workers free their
 * start-up argument asynchronously, which would race with the plain
 * counters); NULL if the context cannot be created. */
static inline splut_ctx *counting_ctx(counting_alloc *c)
{
    splut_allocator a = counting_allocator(c);
    splut_ctx *ctx = NULL;
    if (splut_ctx_create(&a, &ctx) != SPLUT_OK)
        return NULL;
    splut_ctx_set_int(ctx, SPLUT_P_THREADS, 1);
    return ctx;
}

#endif /* SPLUT_TEST_COUNTING_ALLOC_H */
