/*
 * A small persistent thread pool running parallel-for loops.
 *
 * Items are handed out in chunks through an atomic counter. Results must only
 * depend on the item, never on the worker: that keeps every computation
 * bit-identical for any thread count.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdatomic.h>

#include "core-priv.h"

struct splut_pool {
    splut_ctx *ctx;
    unsigned n_workers;          /* including the calling thread */
    pthread_t *threads;
    pthread_mutex_t lock;
    pthread_cond_t start, done;
    atomic_uint_fast64_t generation;
    atomic_uint running;
    atomic_bool quit;
    /* current job */
    splut_task_fn fn;
    void *arg;
    size_t n, chunk;
    atomic_size_t next;
};

typedef struct worker_arg {
    splut_pool *pool;
    unsigned id;
} worker_arg;

static void drain(splut_pool *p, unsigned id)
{
    for (;;) {
        size_t b = atomic_fetch_add(&p->next, p->chunk);
        if (b >= p->n)
            break;
        size_t e = b + p->chunk < p->n ? b + p->chunk : p->n;
        p->fn(p->arg, b, e, id);
    }
}

/* A training step runs a dozen short parallel loops; waking a sleeping thread
 * costs tens of microseconds each time, so workers and the caller first spin
 * briefly on the shared counters and only then block. */
#define SPIN_ROUNDS 20000

static void spin_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("pause");
#endif
}

static void spin_for_job(splut_pool *p, uint64_t seen)
{
    for (int i = 0; i < SPIN_ROUNDS; i++) {
        if (atomic_load(&p->generation) != seen || atomic_load(&p->quit))
            return;
        spin_pause();
    }
}

static void *worker_main(void *varg)
{
    worker_arg wa = *(worker_arg *)varg;
    splut_pool *p = wa.pool;
    splut__free(p->ctx, varg);
    uint64_t seen = 0;
    for (;;) {
        spin_for_job(p, seen);
        pthread_mutex_lock(&p->lock);
        while (!p->quit && p->generation == seen)
            pthread_cond_wait(&p->start, &p->lock);
        if (p->quit) {
            pthread_mutex_unlock(&p->lock);
            return NULL;
        }
        seen = p->generation;
        pthread_mutex_unlock(&p->lock);
        drain(p, wa.id);
        if (atomic_fetch_sub(&p->running, 1) == 1) {
            pthread_mutex_lock(&p->lock);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->lock);
        }
    }
}

static void stop_workers(splut_pool *p, unsigned started)
{
    pthread_mutex_lock(&p->lock);
    p->quit = true;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < started; i++)
        pthread_join(p->threads[i], NULL);
}

splut_status splut__pool_create(splut_ctx *ctx, unsigned threads, splut_pool **out)
{
    *out = NULL;
    if (threads < 1)
        threads = 1;
    splut_pool *p = splut__calloc(ctx, 1, sizeof(*p));
    if (!p)
        return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory creating a thread pool");
    p->ctx = ctx;
    p->n_workers = threads;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->start, NULL);
    pthread_cond_init(&p->done, NULL);
    unsigned extra = threads - 1, started = 0;
    if (extra) {
        p->threads = splut__calloc(ctx, extra, sizeof(pthread_t));
        if (!p->threads)
            goto fail;
        for (; started < extra; started++) {
            worker_arg *wa = splut__alloc(ctx, sizeof(*wa));
            if (!wa)
                goto fail;
            wa->pool = p;
            wa->id = started + 1;
            if (pthread_create(&p->threads[started], NULL, worker_main, wa) != 0) {
                splut__free(ctx, wa);
                goto fail;
            }
        }
    }
    *out = p;
    return SPLUT_OK;
fail:
    stop_workers(p, started);
    p->n_workers = 0;
    splut__pool_destroy(p);
    return splut__fail(ctx, SPLUT_E_NOMEM, "cannot start %u worker threads", extra);
}

void splut__pool_destroy(splut_pool *p)
{
    if (!p)
        return;
    if (p->n_workers > 1)
        stop_workers(p, p->n_workers - 1);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->done);
    splut__free(p->ctx, p->threads);
    splut__free(p->ctx, p);
}

unsigned splut__pool_size(const splut_pool *p)
{
    return p->n_workers;
}

void splut__pool_run(splut_pool *p, size_t n, size_t chunk, splut_task_fn fn, void *arg)
{
    if (n == 0)
        return;
    if (chunk < 1)
        chunk = 1;
    if (p->n_workers <= 1 || n <= chunk) {
        fn(arg, 0, n, 0);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    p->chunk = chunk;
    atomic_store(&p->next, 0);
    pthread_mutex_lock(&p->lock);
    p->running = p->n_workers - 1;
    p->generation++;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->lock);
    drain(p, 0);
    for (int i = 0; i < SPIN_ROUNDS && atomic_load(&p->running); i++)
        spin_pause();
    pthread_mutex_lock(&p->lock);
    while (p->running)
        pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
}
