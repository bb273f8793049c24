/*
 * Truth-table enumeration benchmark: median wall time of splut_tables_create()
 * over several runs per preset, on T threads and (as the in-run baseline) on 1
 * thread, with the process CPU time of each (the work done, which stays
 * comparable when other jobs load the machine). Also LUT-mode against
 * eval-mode inference time on 20,000 random input codes. Prints one JSON object.
 *
 * Usage: bench-tables [runs] [threads] [preset ...]
 *        (defaults: 9 runs, 2 threads, hdr-add2 hdr jsc-xl jsc-m-lite-add2)
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sparselut/sparselut.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_RUNS 101

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct timing {
    double median, min, cpu_median;
} timing;

/* Time `runs` enumerations of model m with `threads` threads. */
static int time_tables(splut_ctx *ctx, const splut_model *m, int threads, int runs,
                       timing *out)
{
    double wall[MAX_RUNS], cpu[MAX_RUNS];
    if (splut_ctx_set_int(ctx, SPLUT_P_THREADS, threads) != SPLUT_OK)
        return -1;
    for (int r = 0; r < runs; r++) {
        splut_tables *t = NULL;
        double c0 = cpu_now(), t0 = now();
        splut_status st = splut_tables_create(m, &t);
        wall[r] = now() - t0;
        cpu[r] = cpu_now() - c0;
        splut_tables_destroy(t);
        if (st != SPLUT_OK) {
            fprintf(stderr, "bench-tables: %s: %s\n", splut_status_str(st),
                    splut_ctx_last_error(ctx));
            return -1;
        }
    }
    qsort(wall, (size_t)runs, sizeof(double), cmp_double);
    qsort(cpu, (size_t)runs, sizeof(double), cmp_double);
    out->median = wall[runs / 2];
    out->min = wall[0];
    out->cpu_median = cpu[runs / 2];
    return 0;
}

/* Median seconds of LUT-mode (tables) and eval-mode (model) inference on
 * `n` random input codes, on the context's threads. */
static int time_inference(const splut_model *m, const splut_tables *t, size_t n, int runs,
                          double *lut_s, double *eval_s)
{
    size_t ni = splut_model_num_inputs(m), no = splut_model_num_outputs(m);
    uint32_t bits = splut_model_input_bits(m);
    uint16_t *in = malloc(n * ni * sizeof(uint16_t)), *out = malloc(n * no * sizeof(uint16_t));
    double a[MAX_RUNS], b[MAX_RUNS];
    int rc = in && out ? 0 : -1;
    uint64_t s = 88172645463325252ull;
    for (size_t i = 0; rc == 0 && i < n * ni; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        in[i] = (uint16_t)(s & ((1u << bits) - 1));
    }
    for (int r = 0; rc == 0 && r < runs; r++) {
        double t0 = now();
        rc |= splut_tables_forward(t, in, n, out) != SPLUT_OK;
        double t1 = now();
        rc |= splut_model_forward_codes(m, in, n, out) != SPLUT_OK;
        a[r] = t1 - t0;
        b[r] = now() - t1;
    }
    if (rc == 0) {
        qsort(a, (size_t)runs, sizeof(double), cmp_double);
        qsort(b, (size_t)runs, sizeof(double), cmp_double);
        *lut_s = a[runs / 2];
        *eval_s = b[runs / 2];
    }
    free(in);
    free(out);
    return rc;
}

static int bench_preset(splut_ctx *ctx, const char *name, int threads, int runs, int first)
{
    splut_model *m = NULL;
    if (splut_model_create_preset(ctx, name, &m) != SPLUT_OK) {
        fprintf(stderr, "bench-tables: unknown preset '%s'\n", name);
        return -1;
    }
    splut_tables *t = NULL;
    uint64_t entries = 0, bits = 0, luts = 0;
    if (splut_tables_create(m, &t) != SPLUT_OK) { /* also warms caches and pages */
        splut_model_destroy(m);
        return -1;
    }
    splut_tables_totals(t, &entries, &bits);
    splut_tables_cost(t, SIZE_MAX, &luts);
    const size_t samples = 20000;
    double lut_s = 0, eval_s = 0;
    int rc = splut_ctx_set_int(ctx, SPLUT_P_THREADS, threads) != SPLUT_OK;
    if (rc == 0)
        rc = time_inference(m, t, samples, runs < 5 ? runs : 5, &lut_s, &eval_s);
    splut_tables_destroy(t);
    timing multi, single;
    if (rc == 0)
        rc = time_tables(ctx, m, threads, runs, &multi);
    if (rc == 0)
        rc = time_tables(ctx, m, 1, runs, &single);
    splut_model_destroy(m);
    if (rc)
        return rc;
    printf("%s    {\"preset\": \"%s\", \"entries\": %llu, \"bits\": %llu, \"luts\": %llu,\n"
           "     \"threads\": %d, \"median_s\": %.6f, \"min_s\": %.6f, \"cpu_median_s\": %.6f,\n"
           "     \"entries_per_s\": %.4g, \"median_s_1thread\": %.6f, "
           "\"cpu_median_s_1thread\": %.6f, \"speedup_vs_1thread\": %.3f,\n"
           "     \"inference_samples\": %zu, \"lut_forward_s\": %.6f, "
           "\"eval_forward_s\": %.6f, \"lut_speedup_vs_eval\": %.2f}",
           first ? "" : ",\n", name, (unsigned long long)entries, (unsigned long long)bits,
           (unsigned long long)luts, threads, multi.median, multi.min, multi.cpu_median,
           (double)entries / multi.median, single.median, single.cpu_median,
           single.median / multi.median, samples, lut_s, eval_s, eval_s / lut_s);
    return 0;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 9;
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    if (runs < 1 || runs > MAX_RUNS || threads < 1 || threads > 256) {
        fprintf(stderr, "usage: bench-tables [runs 1..%d] [threads 1..256] [preset ...]\n",
                MAX_RUNS);
        return 2;
    }
    static const char *dflt[] = {"hdr-add2", "hdr", "jsc-xl", "jsc-m-lite-add2"};
    const char **presets = argc > 3 ? (const char **)argv + 3 : dflt;
    int n = argc > 3 ? argc - 3 : 4;
    splut_ctx *ctx = NULL;
    if (splut_ctx_create(NULL, &ctx) != SPLUT_OK)
        return 1;
    printf("{\"benchmark\": \"tables\", \"version\": \"%s\", \"runs\": %d, \"results\": [\n",
           splut_version_string(), runs);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        rc = bench_preset(ctx, presets[i], threads, runs, i == 0);
    printf("\n]}\n");
    splut_ctx_unref(ctx);
    return rc ? 1 : 0;
}
