/*
 * Training throughput: samples per second of splut_trainer_step (forward +
 * backward + AdamW) at batch 128 on presets hdr and hdr-add2, 1 and 2 threads.
 * Random features stand in for MNIST (the cost does not depend on values).
 * Prints one JSON object on stdout. Usage: bench-train [steps] [preset...]
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sparselut/sparselut.h"

static clockid_t bench_clock = CLOCK_MONOTONIC;

/* Wall clock by default; process CPU time with --cpu (robust to other load on
 * the machine for single-thread comparisons, meaningless for speedups). */
static double now(void)
{
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One trainer of a preset on a fixed random batch. */
typedef struct bench_run {
    splut_ctx *ctx;
    splut_model *m;
    splut_trainer *t;
    float *x;
    int32_t *y;
    size_t batch;
} bench_run;

static void bench_run_free(bench_run *r)
{
    splut_trainer_destroy(r->t);
    splut_model_destroy(r->m);
    splut_ctx_unref(r->ctx);
    free(r->x);
    free(r->y);
}

static int bench_run_init(bench_run *r, const char *preset, int threads, size_t batch)
{
    memset(r, 0, sizeof(*r));
    r->batch = batch;
    if (splut_ctx_create(NULL, &r->ctx) != SPLUT_OK ||
        splut_ctx_set_int(r->ctx, SPLUT_P_THREADS, threads) != SPLUT_OK ||
        splut_model_create_preset(r->ctx, preset, &r->m) != SPLUT_OK ||
        splut_trainer_create(r->m, &r->t) != SPLUT_OK)
        return -1;
    uint32_t n_in = splut_model_num_inputs(r->m);
    r->x = malloc(batch * n_in * sizeof(float));
    r->y = malloc(batch * sizeof(int32_t));
    if (!r->x || !r->y)
        return -1;
    unsigned s = 12345;
    for (size_t i = 0; i < batch * n_in; i++) {
        s = s * 1103515245u + 12345u;
        r->x[i] = (float)((s >> 8) & 0xffff) / 65536.0f * 2.0f - 1.0f;
    }
    for (size_t i = 0; i < batch; i++)
        r->y[i] = (int32_t)(i % splut_model_num_classes(r->m));
    double loss;
    /* warm-up: allocates the workspace and starts the workers */
    return splut_trainer_step(r->t, r->x, r->y, batch, &loss) == SPLUT_OK ? 0 : -1;
}

/* Samples per second of `steps` consecutive steps. */
static double time_steps(bench_run *r, int steps)
{
    double loss, t0 = now();
    for (int i = 0; i < steps; i++)
        splut_trainer_step(r->t, r->x, r->y, r->batch, &loss);
    return (double)steps * (double)r->batch / (now() - t0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define RUNS 9

/* 1-thread and 2-thread runs alternate, so load changes on a shared machine
 * hit both alike; reports the median and the best of RUNS runs each. */
static void measure(const char *preset, int steps, size_t batch, int first)
{
    bench_run r1, r2;
    double a[RUNS], b[RUNS];
    int ok = bench_run_init(&r1, preset, 1, batch) == 0 && bench_run_init(&r2, preset, 2, batch) == 0;
    for (int r = 0; ok && r < RUNS; r++) {
        a[r] = time_steps(&r1, steps);
        b[r] = time_steps(&r2, steps);
    }
    bench_run_free(&r1);
    bench_run_free(&r2);
    if (!ok) {
        fprintf(stderr, "bench-train: cannot set up preset %s\n", preset);
        return;
    }
    qsort(a, RUNS, sizeof(double), cmp_double);
    qsort(b, RUNS, sizeof(double), cmp_double);
    printf("%s\n  {\"preset\": \"%s\", \"threads_1_samples_per_s\": %.0f, "
           "\"threads_2_samples_per_s\": %.0f, \"speedup_2_over_1\": %.2f, "
           "\"threads_1_best\": %.0f, \"threads_2_best\": %.0f}",
           first ? "" : ",", preset, a[RUNS / 2], b[RUNS / 2], b[RUNS / 2] / a[RUNS / 2],
           a[RUNS - 1], b[RUNS - 1]);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--cpu") == 0) {
        bench_clock = CLOCK_PROCESS_CPUTIME_ID;
        argc--;
        argv++;
    }
    int steps = argc > 1 ? atoi(argv[1]) : 40;
    const char *defaults[] = {"hdr-add2", "hdr"};
    const char **presets = argc > 2 ? (const char **)argv + 2 : defaults;
    int n_presets = argc > 2 ? argc - 2 : 2;
    const size_t batch = 128;
    printf("{\"benchmark\": \"train_step\", \"clock\": \"%s\", \"batch\": %zu, "
           "\"steps_per_run\": %d, \"statistic\": \"median and best of 9 alternating runs\", \"results\": [",
           bench_clock == CLOCK_MONOTONIC ? "wall" : "process_cpu", batch, steps);
    for (int p = 0; p < n_presets; p++)
        measure(presets[p], steps, batch, p == 0);
    printf("\n]}\n");
    return 0;
}
