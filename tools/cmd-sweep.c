/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * `sparselut sweep SPEC`: expand a sweep file into points and run the
 * unfinished ones, locally with N concurrent workers or as a Slurm job array
 * (one task per point, `sparselut sweep SPEC --point K`) followed by a
 * dependent collection job. Either way a point is run by the same code
 * (sweep_point_run), in a process of its own.
 */
#define _XOPEN_SOURCE 700

#include "cli.h"
#include "sweep.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void sweep_help(void)
{
    printf(
        "Usage: sparselut sweep SPEC [--out DIR] [--jobs N] [--threads T]\n"
        "       sparselut sweep SPEC --slurm [--sbatch-args ARGS] [--jobs N] [--wait]\n"
        "                                    [--dry-run]\n"
        "       sparselut sweep SPEC (--list | --point K | --collect) [--out DIR]\n"
        "       sparselut sweep --adopt TRAIN.json --model FILE --out DIR\n"
        "                       [--set KEY=VALUE]...\n\n"
        "Expand a sweep file into points (train settings) and run every point that\n"
        "has not finished: train, tables and the hardware estimate, each point in\n"
        "DIR/points/HASH/ (HASH of its settings) with point.json written last.\n"
        "Rerunning skips finished points; a changed point gets a new HASH and runs.\n"
        "The file format is in docs/sweep.md.\n\n"
        "  --out DIR          output directory (default: SPEC without its extension\n"
        "                     plus .out)\n"
        "  --jobs N           points run at once (default 1); with --slurm the\n"
        "                     array's limit of running tasks (default: none)\n"
        "  --threads T        threads of each point's train run (default 1; results\n"
        "                     do not depend on it)\n"
        "  --list             print the points, their hash and state, and exit\n"
        "  --point K          run point K only (what a Slurm array task runs)\n"
        "  --collect          write DIR/summary.csv, DIR/points.txt and DIR/report.html;\n"
        "                     exit 1 if any point is missing or failed\n"
        "  --slurm            submit the unfinished points as a Slurm job array and a\n"
        "                     collection job that runs after it (sbatch\n"
        "                     --dependency=afterany); the sbatch commands are printed\n"
        "  --sbatch-args ARGS extra sbatch arguments for both jobs, split at spaces\n"
        "                     (e.g. \"--partition=cpu --time=1:00:00\")\n"
        "  --wait             with --slurm: wait until the collection job ends and exit\n"
        "                     with its status\n"
        "  --dry-run          with --slurm: print the commands, submit nothing\n"
        "  --adopt TRAIN.json add a finished training run (its 'sparselut train --json'\n"
        "                     output and --model file) to DIR as a point, so reports\n"
        "                     show it beside the sweep; --set gives its settings\n"
        "                     (train options, e.g. --set data=mnist:DIR --set\n"
        "                     preset=hdr-add2), which name the point\n");
}

#define MAX_SETS 64

typedef struct sweep_args {
    const char *spec, *out, *sbatch_args, *adopt, *model;
    const char *sets[MAX_SETS];
    size_t nsets;
    uint64_t jobs, threads, point;
    int list, collect, slurm, wait, dry_run, point_set, jobs_set;
} sweep_args;

static int parse_num(int argc, char **argv, int *i, const char *name, uint64_t min,
                     uint64_t max, uint64_t *out, int *set, int *matched)
{
    const char *v;
    int r = cli_opt(argc, argv, i, name, &v);
    *matched = r != 0;
    if (r == 0)
        return 0;
    if (r < 0 || cli_parse_u64(v, min, max, out))
        return cli_usage_err("sweep", "%s needs an integer in [%llu, %llu]", name,
                             (unsigned long long)min, (unsigned long long)max);
    if (set)
        *set = 1;
    return 0;
}

static int parse_one(int argc, char **argv, int *i, sweep_args *a)
{
    const char *v;
    int r, m;
    static const struct {
        const char *name;
        size_t off;
    } flags[] = {{"--list", offsetof(sweep_args, list)},
                 {"--collect", offsetof(sweep_args, collect)},
                 {"--slurm", offsetof(sweep_args, slurm)},
                 {"--wait", offsetof(sweep_args, wait)},
                 {"--dry-run", offsetof(sweep_args, dry_run)}};
    for (size_t k = 0; k < sizeof flags / sizeof *flags; k++)
        if (cli_flag(argv, *i, flags[k].name))
            return *(int *)((char *)a + flags[k].off) = 1, 0;
    if ((r = cli_opt(argc, argv, i, "--out", &v)) != 0)
        return r < 0 || !*v ? cli_usage_err("sweep", "--out needs a directory") : (a->out = v, 0);
    if ((r = cli_opt(argc, argv, i, "--adopt", &v)) != 0)
        return r < 0 ? cli_usage_err("sweep", "--adopt needs a file") : (a->adopt = v, 0);
    if ((r = cli_opt(argc, argv, i, "--model", &v)) != 0)
        return r < 0 ? cli_usage_err("sweep", "--model needs a file") : (a->model = v, 0);
    if ((r = cli_opt(argc, argv, i, "--set", &v)) != 0) {
        if (r < 0 || !strchr(v, '=') || strchr(v, '"') || strchr(v, '\n') || a->nsets == MAX_SETS)
            return cli_usage_err("sweep", "--set needs KEY=VALUE (at most %d, no quotes)",
                                 MAX_SETS);
        a->sets[a->nsets++] = v;
        return 0;
    }
    if ((r = cli_opt(argc, argv, i, "--sbatch-args", &v)) != 0)
        return r < 0 ? cli_usage_err("sweep", "--sbatch-args needs a value")
                     : (a->sbatch_args = v, 0);
    if ((r = parse_num(argc, argv, i, "--jobs", 1, 1024, &a->jobs, &a->jobs_set, &m)) || m)
        return r;
    if ((r = parse_num(argc, argv, i, "--threads", 0, 256, &a->threads, NULL, &m)) || m)
        return r;
    if ((r = parse_num(argc, argv, i, "--point", 0, 1000000, &a->point, &a->point_set, &m)) ||
        m)
        return r;
    if (argv[*i][0] == '-' || a->spec)
        return cli_usage_err("sweep", "unexpected argument '%s'", argv[*i]);
    a->spec = argv[*i];
    return 0;
}

static int parse_sweep_args(int argc, char **argv, sweep_args *a)
{
    *a = (sweep_args){.jobs = 1, .threads = 1};
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            sweep_help();
            return -1;
        }
        int rc = parse_one(argc, argv, &i, a);
        if (rc)
            return rc;
    }
    if (a->adopt || a->model || a->nsets) {
        if (!a->adopt || !a->model || !a->out || a->spec)
            return cli_usage_err("sweep", "--adopt needs --model and --out, and no sweep file");
        return 0;
    }
    if (!a->spec)
        return cli_usage_err("sweep", "a sweep file is required");
    if (a->list + a->collect + a->slurm + a->point_set > 1)
        return cli_usage_err("sweep", "--list, --collect, --point and --slurm exclude each other");
    if ((a->wait || a->dry_run || a->sbatch_args) && !a->slurm)
        return cli_usage_err("sweep", "--wait, --dry-run and --sbatch-args need --slurm");
    return 0;
}

/* ------------------------------------------------------------------ setup */

typedef struct sweep_run {
    sweep_args *a;
    sweep_spec spec;
    sweep_point *points;
    sweep_env env;
    char exe[PATH_MAX], spec_abs[PATH_MAX], out_abs[PATH_MAX];
} sweep_run;

static void default_out(const char *spec, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", spec);
    char *slash = strrchr(buf, '/'), *dot = strrchr(buf, '.');
    if (dot && (!slash || dot > slash + 1))
        *dot = '\0';
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, ".out");
}

/* Absolute paths: Slurm tasks and children may start in another directory. */
static int resolve_paths(sweep_run *r)
{
    char out[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", r->exe, sizeof r->exe - 1);
    if (n <= 0)
        return cli_err("cannot find the sparselut program (/proc/self/exe)"), -1;
    r->exe[n] = '\0';
    if (!realpath(r->a->spec, r->spec_abs))
        return cli_err("%s: %s", r->a->spec, strerror(errno)), -1;
    if (r->a->out)
        snprintf(out, sizeof out, "%s", r->a->out);
    else
        default_out(r->a->spec, out, sizeof out);
    if (mkdir(out, 0755) && errno != EEXIST)
        return cli_err("cannot create '%s': %s", out, strerror(errno)), -1;
    if (!realpath(out, r->out_abs))
        return cli_err("%s: %s", out, strerror(errno)), -1;
    r->env = (sweep_env){.exe = r->exe, .out = r->out_abs, .spec = r->spec_abs,
                         .threads = (unsigned)r->a->threads};
    return 0;
}

static int make_points(sweep_run *r)
{
    char err[1024];
    if (sweep_spec_load(r->a->spec, &r->spec, err, sizeof err))
        return cli_err("%s", err), -1;
    r->points = calloc(r->spec.n_points, sizeof *r->points);
    if (!r->points)
        return cli_err("out of memory"), -1;
    for (size_t k = 0; k < r->spec.n_points; k++) {
        if (sweep_point_make(&r->spec, k, &r->points[k], err, sizeof err))
            return cli_err("%s: point %zu: %s", r->a->spec, k, err), -1;
        if (!sweep_point_opt(&r->points[k], "data"))
            return cli_err("%s: point %zu has no 'data'", r->a->spec, k), -1;
        if (!!sweep_point_opt(&r->points[k], "arch") == !!sweep_point_opt(&r->points[k], "preset"))
            return cli_err("%s: point %zu needs exactly one of 'arch' and 'preset'", r->a->spec,
                           k), -1;
        for (size_t j = 0; j < k; j++)
            if (r->points[j].hash == r->points[k].hash)
                return cli_err("%s: points %zu and %zu have the same settings", r->a->spec, j,
                               k), -1;
    }
    return 0;
}

static void free_run(sweep_run *r)
{
    for (size_t k = 0; r->points && k < r->spec.n_points; k++)
        sweep_point_free(&r->points[k]);
    free(r->points);
    sweep_spec_free(&r->spec);
}

/* ------------------------------------------------------------------ list */

static int list_points(const sweep_run *r)
{
    char path[4300];
    for (size_t k = 0; k < r->spec.n_points; k++) {
        const sweep_point *p = &r->points[k];
        sweep_point_dir(&r->env, p, path, sizeof path - 16);
        strcat(path, "/failed.txt");
        const char *state = sweep_point_done(&r->env, p) ? "done"
                            : access(path, F_OK) == 0    ? "failed"
                                                         : "todo";
        printf("%zu\t%s\t%s\t", k, p->hex, state);
        if (*p->section)
            printf("[%s] ", p->section);
        for (size_t i = 0; i < p->n_opts; i++)
            printf("%s%s=%s", i ? " " : "", p->opts[i].key, p->opts[i].value);
        printf("\n");
    }
    return CLI_EXIT_OK;
}

/* --------------------------------------------------------------- collect */

static int collect(const sweep_run *r)
{
    char path[4300];
    size_t missing = 0, cap = r->spec.n_points * 18 + 1, n = 0;
    char *list = malloc(cap);
    if (!list)
        return cli_err("out of memory"), CLI_EXIT_FAIL;
    for (size_t k = 0; k < r->spec.n_points; k++) {
        n += (size_t)snprintf(list + n, cap - n, "%s\n", r->points[k].hex);
        if (!sweep_point_done(&r->env, &r->points[k])) {
            cli_err("point %zu (%s) has not finished", k, r->points[k].hex);
            missing++;
        }
    }
    snprintf(path, sizeof path, "%s/points.txt", r->out_abs);
    int rc = sweep_write_atomic(path, list, n);
    free(list);
    char html[4300], csv[4300];
    snprintf(html, sizeof html, "%s/report.html", r->out_abs);
    snprintf(csv, sizeof csv, "%s/summary.csv", r->out_abs);
    if (!rc)
        rc = sweep_report_write(r->out_abs, html, csv, NULL);
    if (rc)
        return CLI_EXIT_FAIL;
    fprintf(stderr, "sparselut sweep: %zu of %zu points finished; %s, %s\n",
            r->spec.n_points - missing, r->spec.n_points, csv, html);
    return missing ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

/* ----------------------------------------------------------------- local */

static void point_argv(const sweep_run *r, size_t k, char *kbuf, char *tbuf, char **argv)
{
    snprintf(kbuf, 24, "%zu", k);
    snprintf(tbuf, 24, "%u", r->env.threads);
    char *v[] = {(char *)r->exe, "sweep", (char *)r->spec_abs, "--out", (char *)r->out_abs,
                 "--threads", tbuf, "--point", kbuf, NULL};
    memcpy(argv, v, sizeof v);
}

typedef struct worker {
    pid_t pid;
    size_t point;
    double start;
} worker;

/* Waits for one worker; reports it. */
static int reap(const sweep_run *r, worker *w, size_t nw, size_t *done, size_t total)
{
    int status;
    pid_t pid;
    while ((pid = wait(&status)) < 0)
        if (errno != EINTR)
            return -1;
    for (size_t i = 0; i < nw; i++) {
        if (w[i].pid != pid)
            continue;
        sweep_track_child(pid, 0);
        int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        (*done)++;
        fprintf(stderr, "sparselut sweep: [%zu/%zu] point %zu %s %s (%.1f s)\n", *done, total,
                w[i].point, r->points[w[i].point].hex,
                ok ? "finished" : sweep_stop_requested() ? "interrupted" : "FAILED",
                cli_now() - w[i].start);
        w[i].pid = 0;
        return ok ? 0 : 1;
    }
    return 0;
}

static int run_local(const sweep_run *r)
{
    size_t total = 0, done = 0, failed = 0, next = 0, running = 0;
    for (size_t k = 0; k < r->spec.n_points; k++)
        total += !sweep_point_done(&r->env, &r->points[k]);
    fprintf(stderr, "sparselut sweep: %zu points, %zu finished before, %zu to run (%llu at once)\n",
            r->spec.n_points, r->spec.n_points - total, total, (unsigned long long)r->a->jobs);
    worker *w = calloc(r->a->jobs, sizeof *w);
    if (!w)
        return cli_err("out of memory"), CLI_EXIT_FAIL;
    sweep_signals_install();
    for (;;) {
        while (!sweep_stop_requested() && running < r->a->jobs && next < r->spec.n_points) {
            size_t k = next++;
            if (sweep_point_done(&r->env, &r->points[k]))
                continue;
            char kbuf[24], tbuf[24], *argv[10];
            point_argv(r, k, kbuf, tbuf, argv);
            size_t slot = 0;
            while (w[slot].pid)
                slot++;
            w[slot] = (worker){.pid = sweep_spawn(argv, NULL, NULL), .point = k,
                               .start = cli_now()};
            if (w[slot].pid < 0) {
                w[slot].pid = 0;
                failed++;
                continue;
            }
            running++;
        }
        if (!running)
            break;
        int rc = reap(r, w, r->a->jobs, &done, total);
        if (rc < 0)
            break;
        failed += (size_t)rc;
        running--;
    }
    free(w);
    if (sweep_stop_requested()) {
        cli_err("stopped by signal %d; finished points are kept, rerun to continue",
                sweep_stop_requested());
        return 128 + sweep_stop_requested();
    }
    int rc = collect(r);
    return failed ? CLI_EXIT_FAIL : rc;
}

static int run_one_point(const sweep_run *r)
{
    if (r->a->point >= r->spec.n_points)
        return cli_usage_err("sweep", "--point %llu: the sweep has %zu points",
                             (unsigned long long)r->a->point, r->spec.n_points);
    const sweep_point *p = &r->points[r->a->point];
    if (sweep_point_done(&r->env, p)) {
        fprintf(stderr, "sparselut sweep: point %zu (%s) already finished\n", p->index, p->hex);
        return CLI_EXIT_OK;
    }
    sweep_signals_install();
    int rc = sweep_point_run(&r->env, p);
    if (sweep_stop_requested())
        return 128 + sweep_stop_requested();
    return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

/* --adopt: the --set pairs as a one-point sweep file (values quoted, so that
 * commas and ".." stay literal), then the point is made from the run's files. */
static int adopt_run(const sweep_args *a)
{
    char text[16384], err[1024], out[PATH_MAX];
    size_t n = 0;
    for (size_t i = 0; i < a->nsets && n < sizeof text; i++) {
        const char *eq = strchr(a->sets[i], '=');
        n += (size_t)snprintf(text + n, sizeof text - n, "%.*s = \"%s\"\n",
                              (int)(eq - a->sets[i]), a->sets[i], eq + 1);
    }
    if (n >= sizeof text)
        return cli_usage_err("sweep", "--set values are too long");
    if (n == 0)
        snprintf(text, sizeof text, "adopted = \"%s\"\n", a->adopt);
    sweep_spec spec;
    sweep_point p;
    if (sweep_spec_parse(text, "--set", &spec, err, sizeof err))
        return cli_usage_err("sweep", "%s", err);
    int rc = sweep_point_make(&spec, 0, &p, err, sizeof err) ? (cli_err("%s", err), -1) : 0;
    char exe[PATH_MAX];
    ssize_t len = rc ? -1 : readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (!rc && len <= 0)
        rc = (cli_err("cannot find the sparselut program"), -1);
    if (!rc && ((mkdir(a->out, 0755) && errno != EEXIST) || !realpath(a->out, out)))
        rc = (cli_err("%s: %s", a->out, strerror(errno)), -1);
    if (!rc) {
        exe[len] = '\0';
        sweep_env env = {.exe = exe, .out = out, .threads = (unsigned)a->threads};
        rc = sweep_point_adopt(&env, &p, a->adopt, a->model);
        if (!rc)
            fprintf(stderr, "sparselut sweep: %s is point %s of %s\n", a->adopt, p.hex, out);
        sweep_point_free(&p);
    }
    sweep_spec_free(&spec);
    return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cli_cmd_sweep(int argc, char **argv)
{
    sweep_args a;
    int rc = parse_sweep_args(argc, argv, &a);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (a.adopt)
        return adopt_run(&a);
    sweep_run r = {.a = &a};
    rc = resolve_paths(&r) || make_points(&r) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    if (rc == CLI_EXIT_OK) {
        if (a.list)
            rc = list_points(&r);
        else if (a.collect)
            rc = collect(&r);
        else if (a.point_set)
            rc = run_one_point(&r);
        else if (a.slurm)
            rc = sweep_slurm_submit(&r.env, r.points, r.spec.n_points, a.sbatch_args,
                                    a.jobs_set ? a.jobs : 0, a.wait, a.dry_run);
        else
            rc = run_local(&r);
    }
    free_run(&r);
    return rc;
}
