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

/* Median of a few timed runs of `steps` steps; returns samples/s. */
static double measure(const char *preset, int threads, int steps, size_t batch)
{
    splut_ctx *ctx = NULL;
    splut_model *m = NULL;
    splut_trainer *t = NULL;
    double best = -1;
    if (splut_ctx_create(NULL, &ctx) != SPLUT_OK)
        return -1;
    splut_ctx_set_int(ctx, SPLUT_P_THREADS, threads);
    if (splut_model_create_preset(ctx, preset, &m) != SPLUT_OK ||
        splut_trainer_create(m, &t) != SPLUT_OK)
        goto out;
    uint32_t n_in = splut_model_num_inputs(m), outs = splut_model_num_outputs(m);
    float *x = malloc(batch * n_in * sizeof(float));
    int32_t *y = malloc(batch * sizeof(int32_t));
    unsigned s = 12345;
    for (size_t i = 0; i < batch * n_in; i++) {
        s = s * 1103515245u + 12345u;
        x[i] = (float)((s >> 8) & 0xffff) / 65536.0f * 2.0f - 1.0f;
    }
    for (size_t i = 0; i < batch; i++)
        y[i] = (int32_t)(i % (outs > 1 ? outs : 2));
    double loss;
    splut_trainer_step(t, x, y, batch, &loss); /* warm-up: allocates workspace */
    double rates[5];
    int runs = 5;
    for (int r = 0; r < runs; r++) {
        double t0 = now();
        for (int i = 0; i < steps; i++)
            splut_trainer_step(t, x, y, batch, &loss);
        rates[r] = (double)steps * (double)batch / (now() - t0);
    }
    for (int i = 1; i < runs; i++)
        for (int j = i; j > 0 && rates[j] < rates[j - 1]; j--) {
            double tmp = rates[j];
            rates[j] = rates[j - 1];
            rates[j - 1] = tmp;
        }
    best = rates[runs / 2];
    free(x);
    free(y);
out:
    splut_trainer_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    return best;
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
           "\"steps_per_run\": %d, \"statistic\": \"median of 5 runs\", \"results\": [",
           bench_clock == CLOCK_MONOTONIC ? "wall" : "process_cpu", batch, steps);
    for (int p = 0; p < n_presets; p++) {
        double r1 = measure(presets[p], 1, steps, batch);
        double r2 = measure(presets[p], 2, steps, batch);
        printf("%s\n  {\"preset\": \"%s\", \"threads_1_samples_per_s\": %.0f, "
               "\"threads_2_samples_per_s\": %.0f, \"speedup_2_over_1\": %.2f}",
               p ? "," : "", presets[p], r1, r2, r1 > 0 ? r2 / r1 : 0.0);
        fflush(stdout);
    }
    printf("\n]}\n");
    return 0;
}
