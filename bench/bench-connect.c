/*
 * Cost of learned connectivity: wall time of a training run with
 * SPLUT_P_CONNECTIVITY = 1 (phase 1 on the surrogate until the switch, then
 * the target network) against the same number of steps with random
 * connectivity, in the same process, runs alternating (issue: at most 2×).
 * Epochs are shortened to STEPS steps so that a whole schedule (budget decay,
 * per-epoch candidate rotation and compaction, switch) fits in seconds; with
 * MNIST's 469 steps per epoch the per-epoch work weighs less, so the ratio
 * measured here is an upper bound. Random features stand in for MNIST.
 * Prints one JSON object on stdout.
 * Usage: bench-connect [steps_per_epoch] [epochs] [switch_epoch] [preset...]
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sparselut/sparselut.h"

#define RUNS 3
#define BATCH 128
#define N_BATCHES 8 /* distinct batches cycled through */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct schedule {
    int steps_per_epoch, epochs, switch_epoch;
} schedule;

typedef struct data {
    float *x;
    int32_t *y;
    uint32_t n_in;
} data;

static int make_data(data *d, uint32_t n_in, uint32_t classes)
{
    d->n_in = n_in;
    d->x = malloc((size_t)N_BATCHES * BATCH * n_in * sizeof(float));
    d->y = malloc((size_t)N_BATCHES * BATCH * sizeof(int32_t));
    if (!d->x || !d->y)
        return -1;
    unsigned s = 4242;
    for (size_t i = 0; i < (size_t)N_BATCHES * BATCH * n_in; i++) {
        s = s * 1103515245u + 12345u;
        d->x[i] = (float)((s >> 8) & 0xffff) / 65536.0f * 2.0f - 1.0f;
    }
    /* labels follow a few features, so gradients single out some inputs */
    for (size_t i = 0; i < (size_t)N_BATCHES * BATCH; i++) {
        const float *r = d->x + i * n_in;
        d->y[i] = (int32_t)((unsigned)(r[0] > 0) + 2u * (r[n_in / 2] > 0)) % classes;
    }
    return 0;
}

/* Seconds of a whole run; *phase1 receives the seconds before the switch. */
static double run_once(const char *preset, const data *d, const schedule *s, int learned,
                       int threads, double *phase1)
{
    splut_ctx *ctx = NULL;
    splut_model *m = NULL;
    splut_trainer *t = NULL;
    double secs = -1;
    if (splut_ctx_create(NULL, &ctx) || splut_ctx_set_int(ctx, SPLUT_P_THREADS, threads) ||
        splut_model_create_preset(ctx, preset, &m) || splut_trainer_create(m, &t))
        goto out;
    if (learned && (splut_trainer_set_int(t, SPLUT_P_CONNECTIVITY, 1) ||
                    splut_trainer_set_int(t, SPLUT_P_STEPS_PER_EPOCH, s->steps_per_epoch) ||
                    splut_trainer_set_int(t, SPLUT_P_SWITCH_EPOCH, s->switch_epoch)))
        goto out;
    int total = s->steps_per_epoch * s->epochs, sw = s->steps_per_epoch * s->switch_epoch;
    double t0 = now();
    *phase1 = 0;
    for (int i = 0; i < total; i++) {
        size_t b = (size_t)(i % N_BATCHES);
        if (splut_trainer_step(t, d->x + b * BATCH * d->n_in, d->y + b * BATCH, BATCH, NULL))
            goto out;
        if (i + 1 == sw)
            *phase1 = now() - t0;
    }
    secs = now() - t0;
out:
    if (secs < 0)
        fprintf(stderr, "bench-connect: %s: %s\n", preset,
                ctx ? splut_ctx_last_error(ctx) : "no context");
    splut_trainer_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    return secs;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int measure(const char *preset, const schedule *s, int threads, int first)
{
    splut_ctx *ctx = NULL;
    splut_model *m = NULL;
    data d = {0};
    int ok = splut_ctx_create(NULL, &ctx) == SPLUT_OK &&
             splut_model_create_preset(ctx, preset, &m) == SPLUT_OK &&
             make_data(&d, splut_model_num_inputs(m), splut_model_num_outputs(m)) == 0;
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    double rnd[RUNS], lrn[RUNS], p1[RUNS], unused;
    for (int r = 0; ok && r < RUNS; r++) {
        rnd[r] = run_once(preset, &d, s, 0, threads, &unused);
        lrn[r] = run_once(preset, &d, s, 1, threads, &p1[r]);
        ok = rnd[r] > 0 && lrn[r] > 0;
    }
    free(d.x);
    free(d.y);
    if (!ok)
        return -1;
    double ratio[RUNS];
    for (int r = 0; r < RUNS; r++)
        ratio[r] = lrn[r] / rnd[r];
    qsort(rnd, RUNS, sizeof(double), cmp_double);
    qsort(lrn, RUNS, sizeof(double), cmp_double);
    qsort(p1, RUNS, sizeof(double), cmp_double);
    qsort(ratio, RUNS, sizeof(double), cmp_double);
    double frac = (double)s->switch_epoch / (double)s->epochs;
    printf("%s\n  {\"preset\": \"%s\", \"threads\": %d, \"random_s\": %.3f, \"learned_s\": %.3f, "
           "\"learned_phase1_s\": %.3f, \"ratio_learned_over_random\": %.3f, "
           "\"phase1_step_cost_over_random\": %.3f}",
           first ? "" : ",", preset, threads, rnd[RUNS / 2], lrn[RUNS / 2], p1[RUNS / 2],
           ratio[RUNS / 2], p1[RUNS / 2] / (rnd[RUNS / 2] * frac));
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    schedule s = {argc > 1 ? atoi(argv[1]) : 40, argc > 2 ? atoi(argv[2]) : 30,
                  argc > 3 ? atoi(argv[3]) : 10};
    if (s.steps_per_epoch < 1 || s.epochs < 1 || s.switch_epoch < 1 || s.switch_epoch > s.epochs) {
        fprintf(stderr, "usage: bench-connect [steps_per_epoch] [epochs] [switch_epoch ≤ epochs] "
                        "[preset...]\n");
        return 2;
    }
    const char *defaults[] = {"hdr-add2"};
    const char **presets = argc > 4 ? (const char **)argv + 4 : defaults;
    int n_presets = argc > 4 ? argc - 4 : 1;
    printf("{\"benchmark\": \"learned_connectivity_cost\", \"clock\": \"wall\", \"batch\": %d, "
           "\"steps_per_epoch\": %d, \"epochs\": %d, \"switch_epoch\": %d, "
           "\"statistic\": \"median of %d alternating random/learned runs\", \"results\": [",
           BATCH, s.steps_per_epoch, s.epochs, s.switch_epoch, RUNS);
    int rc = 0;
    for (int p = 0; p < n_presets; p++)
        rc |= measure(presets[p], &s, 1, p == 0);
    printf("\n]}\n");
    return rc ? 1 : 0;
}
