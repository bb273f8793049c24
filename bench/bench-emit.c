/*
 * HDL emission benchmark: median wall time of splut_tables_emit() per preset
 * and format (tables enumerated once, outside the timing), plus the size of
 * what was written. Prints one JSON object on stdout.
 *
 * Usage: bench-emit [runs] [dir] [preset ...]
 *        (defaults: 5 runs, a temporary directory, hdr-add2 jsc-m-lite-add2)
 * Models are random-initialised presets (emission cost depends on the table
 * shapes, not on what the tables contain, except for the ROM default item).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sparselut/sparselut.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_RUNS 51

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Files and bytes in a directory (not recursive). */
static void dir_size(const char *dir, long *files, long long *bytes)
{
    *files = 0;
    *bytes = 0;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4096 + 512];
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            (*files)++;
            *bytes += (long long)st.st_size;
        }
    }
    closedir(d);
}

static const char *const fmt_names[] = {"verilog", "vhdl", "hls"};

/* Time `runs` emissions of one format; prints its JSON object. */
static int bench_format(splut_ctx *ctx, const splut_tables *t, splut_hdl_format fmt, int runs,
                        const char *dir, int first)
{
    double wall[MAX_RUNS];
    splut_hdl_opts o = SPLUT_HDL_OPTS_INIT;
    o.pipeline = SPLUT_PIPE_LAYER;
    for (int r = 0; r < runs; r++) {
        double t0 = now();
        splut_status st = splut_tables_emit(t, fmt, dir, &o);
        wall[r] = now() - t0;
        if (st != SPLUT_OK) {
            fprintf(stderr, "bench-emit: %s: %s\n", splut_status_str(st),
                    splut_ctx_last_error(ctx));
            return -1;
        }
    }
    qsort(wall, (size_t)runs, sizeof(double), cmp_double);
    long files = 0;
    long long bytes = 0;
    dir_size(dir, &files, &bytes);
    printf("%s{\"format\":\"%s\",\"median_s\":%.6f,\"min_s\":%.6f,\"files\":%ld,\"bytes\":%lld}",
           first ? "" : ",", fmt_names[fmt], wall[runs / 2], wall[0], files, bytes);
    return 0;
}

static int bench_preset(splut_ctx *ctx, const char *preset, int runs, const char *root,
                        int first)
{
    splut_model *m = NULL;
    splut_tables *t = NULL;
    splut_status st = splut_model_create_preset(ctx, preset, &m);
    if (st == SPLUT_OK)
        st = splut_tables_create(m, &t);
    if (st != SPLUT_OK) {
        fprintf(stderr, "bench-emit: %s: %s: %s\n", preset, splut_status_str(st),
                splut_ctx_last_error(ctx));
        splut_model_destroy(m);
        return -1;
    }
    uint64_t entries = 0, bits = 0;
    splut_tables_totals(t, &entries, &bits);
    printf("%s{\"preset\":\"%s\",\"entries\":%llu,\"formats\":[", first ? "" : ",", preset,
           (unsigned long long)entries);
    int rc = 0;
    for (int f = 0; f < 3 && rc == 0; f++) {
        char dir[2048];
        snprintf(dir, sizeof dir, "%.1000s/%.200s-%s", root, preset, fmt_names[f]);
        rc = bench_format(ctx, t, (splut_hdl_format)f, runs, dir, f == 0);
    }
    printf("]}");
    splut_tables_destroy(t);
    splut_model_destroy(m);
    return rc;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    if (runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "bench-emit: runs must be in 1..%d\n", MAX_RUNS);
        return 2;
    }
    char tmp[] = "/tmp/bench-emit-XXXXXX";
    const char *root = argc > 2 ? argv[2] : mkdtemp(tmp);
    if (!root) {
        fprintf(stderr, "bench-emit: cannot create a temporary directory\n");
        return 1;
    }
    const char *dflt[] = {"hdr-add2", "jsc-m-lite-add2"};
    const char **presets = argc > 3 ? (const char **)argv + 3 : dflt;
    int n = argc > 3 ? argc - 3 : 2;
    splut_ctx *ctx = NULL;
    if (splut_ctx_create(NULL, &ctx) != SPLUT_OK)
        return 1;
    printf("{\"benchmark\":\"emit\",\"runs\":%d,\"pipeline\":\"layer\",\"presets\":[", runs);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        rc = bench_preset(ctx, presets[i], runs, root, i == 0);
    printf("]}\n");
    splut_ctx_unref(ctx);
    if (argc <= 2) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0)
            fprintf(stderr, "bench-emit: could not remove %s\n", root);
    }
    return rc ? 1 : 0;
}
