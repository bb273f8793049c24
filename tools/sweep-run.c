/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Running one sweep point: `sparselut train` and `sparselut tables` as child
 * processes of this same program (so a point runs exactly what a user would
 * type), the hardware estimate, the first-layer connectivity through the
 * library, and point.json written last and atomically: its presence is the
 * only "finished" marker, so a killed point is simply run again.
 */

#include "sweep.h"

#include "cli.h"
#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define POINT_FORMAT "sparselut-sweep-point 1"

/* ------------------------------------------------------------ child processes */

/* Children to pass SIGINT/SIGTERM on to: a killed sweep must not leave
 * training processes running (and, under Slurm, scancel signals only us). */
#define MAX_CHILDREN 256
static volatile pid_t children[MAX_CHILDREN];
static volatile sig_atomic_t stop_signal;

static void forward_signal(int sig)
{
    stop_signal = sig;
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (children[i] > 0)
            kill(children[i], sig);
}

void sweep_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int sweep_stop_requested(void)
{
    return stop_signal;
}

void sweep_track_child(pid_t pid, int on)
{
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (on ? children[i] == 0 : children[i] == pid) {
            children[i] = on ? pid : 0;
            return;
        }
}

static int redirect(int fd, const char *path, int flags)
{
    if (!path)
        return 0;
    int f = open(path, flags | O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0)
        return -1;
    int rc = dup2(f, fd) < 0 ? -1 : 0;
    close(f);
    return rc;
}

pid_t sweep_spawn(char *const argv[], const char *out_path, const char *err_path)
{
    pid_t pid = fork();
    if (pid != 0) {
        if (pid > 0)
            sweep_track_child(pid, 1);
        return pid;
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (redirect(STDOUT_FILENO, out_path, O_TRUNC) ||
        redirect(STDERR_FILENO, err_path, O_APPEND)) {
        perror("sparselut sweep: redirecting a child's output");
        _exit(127);
    }
    execv(argv[0], argv);
    perror("sparselut sweep: exec");
    _exit(127);
}

int sweep_wait(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    sweep_track_child(pid, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int sweep_spawn_wait(char *const argv[], const char *out_path, const char *err_path)
{
    pid_t pid = sweep_spawn(argv, out_path, err_path);
    return pid < 0 ? -1 : sweep_wait(pid);
}

/* ------------------------------------------------------------------ files */

int sweep_write_atomic(const char *path, const char *data, size_t len)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        cli_err("cannot create '%s': %s", tmp, strerror(errno));
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    int bad = done < len || fsync(fd) != 0;
    bad |= close(fd) != 0;
    if (bad || rename(tmp, path) != 0) {
        cli_err("cannot write '%s': %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

static int mkdir_p(const char *path)
{
    char buf[4200];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(buf, 0755) && errno != EEXIST ? -1 : 0;
}

void sweep_point_dir(const sweep_env *e, const sweep_point *p, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/points/%s", e->out, p->hex);
}

int sweep_point_done(const sweep_env *e, const sweep_point *p)
{
    char path[4300];
    sweep_point_dir(e, p, path, sizeof path - 16);
    strcat(path, "/point.json");
    return access(path, F_OK) == 0;
}

/* ------------------------------------------------------------ one point */

typedef struct point_run {
    const sweep_env *e;
    const sweep_point *p;
    char dir[4200], model[4300], log[4300];
    sj_node train, tables;
    sweep_hw hw;
    double t_train, t_tables, t_estimate, t_total;
    uint32_t *readers; /* first-layer readers per input */
    uint32_t inputs;
    uint64_t model_bytes, model_hash;
} point_run;

/* "DIR/name" */
static void in_dir(const point_run *r, const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", r->dir, name);
}

static void record_failure(const point_run *r, const char *what)
{
    char path[4300], msg[4600];
    if (sweep_stop_requested()) {
        /* interrupted, not failed: the point is simply not finished */
        cli_err("point %zu (%s): interrupted by signal %d", r->p->index, r->p->hex,
                sweep_stop_requested());
        return;
    }
    in_dir(r, "failed.txt", path, sizeof path);
    int n = snprintf(msg, sizeof msg, "%s\nsee %s\n", what, r->log);
    sweep_write_atomic(path, msg, (size_t)(n < (int)sizeof msg ? n : (int)sizeof msg - 1));
    cli_err("point %zu (%s): %s; see %s", r->p->index, r->p->hex, what, r->log);
}

/* Runs `sparselut ARGS` with stdout to DIR/json_name, parses it into @p out. */
static int run_json(point_run *r, char **argv, const char *json_name, sj_node *out,
                    double *secs)
{
    char path[4300], err[512];
    in_dir(r, json_name, path, sizeof path);
    double t0 = cli_now();
    int rc = sweep_spawn_wait(argv, path, r->log);
    *secs = cli_now() - t0;
    if (rc != 0) {
        snprintf(err, sizeof err, "'sparselut %s' %s %d", argv[1],
                 rc > 128 ? "was killed by signal" : "exited with", rc > 128 ? rc - 128 : rc);
        record_failure(r, err);
        return -1;
    }
    if (sj_parse_file(path, out, err, sizeof err)) {
        record_failure(r, err);
        return -1;
    }
    return 0;
}

static int run_train(point_run *r)
{
    size_t n = 0, cap = 2 * r->p->n_opts + 8;
    char **argv = calloc(cap, sizeof *argv);
    char threads[24];
    if (!argv)
        return record_failure(r, "out of memory"), -1;
    char (*names)[80] = calloc(r->p->n_opts + 1, sizeof *names);
    if (!names)
        return free(argv), record_failure(r, "out of memory"), -1;
    argv[n++] = (char *)r->e->exe;
    argv[n++] = "train";
    for (size_t i = 0; i < r->p->n_opts; i++) {
        if (sweep_is_sweep_setting(r->p->opts[i].key))
            continue;
        snprintf(names[i], sizeof names[i], "--%s", r->p->opts[i].key);
        argv[n++] = names[i];
        if (!sweep_is_flag_option(r->p->opts[i].key))
            argv[n++] = r->p->opts[i].value;
    }
    snprintf(threads, sizeof threads, "%u", r->e->threads);
    argv[n++] = "--out";
    argv[n++] = r->model;
    argv[n++] = "--threads";
    argv[n++] = threads;
    argv[n++] = "--json";
    argv[n] = NULL;
    int rc = run_json(r, argv, "train.json", &r->train, &r->t_train);
    free(names);
    free(argv);
    return rc;
}

static int run_tables(point_run *r)
{
    char threads[24];
    snprintf(threads, sizeof threads, "%u", r->e->threads);
    char *argv[] = {(char *)r->e->exe, "tables", "--model", r->model, "--threads", threads,
                    "--json", NULL};
    return run_json(r, argv, "tables.json", &r->tables, &r->t_tables);
}

/* How many first-layer neurons read each input (the report's heatmap), and the
 * model file's size and hash (to compare runs byte for byte). */
static int inspect_model(point_run *r)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    char err[512];
    if (cli_read_file(r->model, &buf, &len, err, sizeof err))
        return record_failure(r, err), -1;
    r->model_bytes = len;
    r->model_hash = cli_fnv1a(CLI_FNV1A_BASIS, buf, len);
    free(buf);
    splut_ctx *ctx = cli_ctx_new(1);
    splut_model *m = NULL;
    int rc = ctx && splut_model_load(ctx, r->model, &m) == SPLUT_OK ? 0 : -1;
    r->inputs = rc ? 0 : splut_model_num_inputs(m);
    r->readers = rc ? NULL : calloc(r->inputs + 1, sizeof *r->readers);
    splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
    rc = r->readers && splut_model_layer(m, 0, &d) == SPLUT_OK ? 0 : -1;
    uint32_t idx[4096];
    for (uint32_t j = 0; !rc && j < d.width; j++) {
        size_t ni = 0;
        rc = splut_model_get_inputs(m, 0, j, idx, 4096, &ni) == SPLUT_OK ? 0 : -1;
        for (size_t k = 0; !rc && k < ni; k++)
            if (idx[k] < r->inputs)
                r->readers[idx[k]]++;
    }
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    if (rc)
        record_failure(r, "cannot read the model's first-layer connectivity");
    return rc;
}

/* Image datasets (square IDX images) whose pixels the report draws as a heatmap. */
static int image_shape(const char *data, uint32_t inputs, unsigned *w, unsigned *h)
{
    if (!data || (strncmp(data, "mnist:", 6) && strncmp(data, "fashion:", 8)))
        return 0;
    unsigned side = (unsigned)lround(sqrt((double)inputs));
    *w = *h = side;
    return side * side == inputs && side > 0;
}

static void json_copy_num(cli_json *j, const char *key, const sj_node *n)
{
    if (n && n->type == SJ_NUM)
        cli_json_double(j, key, n->num);
}

static void write_history(cli_json *j, const sj_node *hist, int with_seconds)
{
    cli_json_begin_array(j, with_seconds ? "epoch_seconds" : "history");
    for (size_t i = 0; i < sj_len(hist); i++) {
        const sj_node *e = sj_at(hist, i);
        if (with_seconds) {
            cli_json_double(j, NULL, sj_num(sj_get(e, "seconds"), 0));
            continue;
        }
        cli_json_begin_object(j, NULL);
        cli_json_int(j, "epoch", (int64_t)sj_num(sj_get(e, "epoch"), 0));
        json_copy_num(j, "loss", sj_get(e, "loss"));
        json_copy_num(j, "train_accuracy", sj_get(e, "train_accuracy"));
        json_copy_num(j, "test_accuracy", sj_get(e, "test_accuracy"));
        json_copy_num(j, "live_test_accuracy", sj_get(e, "live_test_accuracy"));
        const sj_node *ac = sj_get(e, "active_connections");
        if (ac) {
            cli_json_begin_array(j, "active_connections");
            for (size_t l = 0; l < sj_len(ac); l++)
                cli_json_int(j, NULL, (int64_t)sj_num(sj_at(ac, l), 0));
            cli_json_end_array(j);
        }
        cli_json_end_object(j);
    }
    cli_json_end_array(j);
}

/* Best test accuracy of the model itself: with learned connectivity the
 * epochs up to the switch evaluate the phase-1 surrogate, not this network. */
static void write_accuracy(cli_json *j, const sj_node *train)
{
    const sj_node *hist = sj_get(train, "history");
    double best = -1, last = NAN, after = sj_num(sj_get(train, "switch_epoch"), 0);
    int64_t best_epoch = 0;
    for (size_t i = 0; i < sj_len(hist); i++) {
        double a = sj_num(sj_get(sj_at(hist, i), "test_accuracy"), NAN);
        double epoch = sj_num(sj_get(sj_at(hist, i), "epoch"), 0);
        last = a;
        if (epoch > after && a > best) {
            best = a;
            best_epoch = (int64_t)epoch;
        }
    }
    cli_json_begin_object(j, "accuracy");
    json_copy_num(j, "test", sj_get(train, "test_accuracy"));
    json_copy_num(j, "train", sj_get(train, "train_accuracy"));
    cli_json_double(j, "last_epoch", last);
    cli_json_double(j, "best", best >= 0 ? best : NAN);
    cli_json_int(j, "best_epoch", best_epoch);
    cli_json_string(j, "kept", sj_str(sj_get(train, "kept"), "last"));
    cli_json_end_object(j);
}

static void write_luts(cli_json *j, const char *key, const int64_t *luts, size_t n)
{
    cli_json_begin_array(j, key);
    for (size_t l = 0; l < n; l++)
        cli_json_int(j, NULL, luts[l]);
    cli_json_end_array(j);
}

/* "hardware": the estimate the point's `hardware` setting chose, and the
 * cost model beside it; nothing that depends on the host or the directory. */
static void write_hardware(cli_json *j, const sweep_hw *hw)
{
    cli_json_begin_object(j, "hardware");
    cli_json_string(j, "method", hw->method);
    cli_json_int(j, "luts", hw->luts);
    write_luts(j, "layer_luts", hw->layer_luts, hw->layers);
    cli_json_int(j, "cost_model_luts", hw->cost_model_luts);
    write_luts(j, "cost_model_layer_luts", hw->cost_model_layer_luts, hw->layers);
    if (!strcmp(hw->method, "abc-fast")) {
        cli_json_int(j, "muxf7", hw->muxf7);
        cli_json_int(j, "muxf8", hw->muxf8);
        cli_json_int(j, "lut6", hw->lut6);
        cli_json_int(j, "depth_lut6", hw->depth6);
        cli_json_int(j, "register_bits", hw->register_bits);
        cli_json_int(j, "register_bits_live", hw->register_bits_live);
        cli_json_int(j, "latency_cycles", hw->latency_cycles);
        cli_json_string(j, "command", hw->command);
        cli_json_string(j, "abc_command", hw->abc_command);
        cli_json_string(j, "abc_version", hw->abc_version);
    }
    cli_json_end_object(j);
}

static void write_tables(cli_json *j, const point_run *r)
{
    static const char *const fields[] = {"neurons", "sub_neurons", "in_width", "entries",
                                         "bits", "luts"};
    cli_json_begin_object(j, "tables");
    cli_json_int(j, "entries", (int64_t)sj_num(sj_get(&r->tables, "entries"), 0));
    cli_json_int(j, "bits", (int64_t)sj_num(sj_get(&r->tables, "bits"), 0));
    cli_json_begin_array(j, "layers");
    const sj_node *layers = sj_get(&r->tables, "layers");
    for (size_t l = 0; l < sj_len(layers); l++) {
        cli_json_begin_object(j, NULL);
        for (size_t f = 0; f < sizeof fields / sizeof *fields; f++)
            cli_json_int(j, fields[f], (int64_t)sj_num(sj_get(sj_at(layers, l), fields[f]), 0));
        cli_json_end_object(j);
    }
    cli_json_end_array(j);
    cli_json_end_object(j);
    write_hardware(j, &r->hw);
}

static void write_inputs(cli_json *j, const point_run *r)
{
    unsigned w, h;
    cli_json_begin_object(j, "inputs");
    cli_json_int(j, "count", r->inputs);
    if (image_shape(sweep_point_opt(r->p, "data"), r->inputs, &w, &h)) {
        cli_json_int(j, "image_width", w);
        cli_json_int(j, "image_height", h);
    }
    cli_json_begin_array(j, "first_layer_readers");
    for (uint32_t i = 0; i < r->inputs; i++)
        cli_json_int(j, NULL, r->readers[i]);
    cli_json_end_array(j);
    cli_json_end_object(j);
}

/* Everything that differs between two runs of the same point (times, paths,
 * host) goes under "run", so that the rest compares equal across executors. */
static void write_run(cli_json *j, const point_run *r)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    cli_json_begin_object(j, "run");
    cli_json_string(j, "host", host);
    cli_json_string(j, "directory", r->dir);
    cli_json_string(j, "version", splut_version_string());
    cli_json_int(j, "threads", r->e->threads);
    const char *job = getenv("SLURM_JOB_ID");
    if (job)
        cli_json_string(j, "slurm_job", job);
    cli_json_double(j, "train_seconds", r->t_train);
    cli_json_double(j, "tables_seconds", r->t_tables);
    cli_json_double(j, "estimate_seconds", r->t_estimate);
    cli_json_double(j, "total_seconds", cli_now() - r->t_total);
    write_history(j, sj_get(&r->train, "history"), 1);
    cli_json_end_object(j);
}

static void write_point_json(FILE *f, const point_run *r)
{
    const sweep_point *p = r->p;
    cli_json j = {.out = f};
    cli_json_begin_object(&j, NULL);
    cli_json_string(&j, "format", POINT_FORMAT);
    cli_json_string(&j, "hash", p->hex);
    cli_json_int(&j, "index", (int64_t)p->index);
    cli_json_string(&j, "section", p->section);
    cli_json_begin_object(&j, "settings");
    for (size_t i = 0; i < p->n_opts; i++)
        cli_json_string(&j, p->opts[i].key, p->opts[i].value);
    cli_json_end_object(&j);
    cli_json_begin_object(&j, "vars");
    for (size_t i = 0; i < p->n_vars; i++)
        cli_json_string(&j, p->vars[i].key, p->vars[i].value);
    cli_json_end_object(&j);
    write_accuracy(&j, &r->train);
    cli_json_int(&j, "epochs", (int64_t)sj_num(sj_get(&r->train, "epochs"), 0));
    const sj_node *sw = sj_get(&r->train, "switch_epoch");
    if (sw)
        cli_json_int(&j, "switch_epoch", (int64_t)sj_num(sw, 0));
    cli_json_int(&j, "train_samples", (int64_t)sj_num(sj_get(&r->train, "train_samples"), 0));
    cli_json_int(&j, "test_samples", (int64_t)sj_num(sj_get(&r->train, "test_samples"), 0));
    write_history(&j, sj_get(&r->train, "history"), 0);
    write_tables(&j, r);
    cli_json_begin_object(&j, "model");
    cli_json_string(&j, "file", "model.slm");
    cli_json_int(&j, "bytes", (int64_t)r->model_bytes);
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)r->model_hash);
    cli_json_string(&j, "fnv1a", hex);
    cli_json_end_object(&j);
    write_inputs(&j, r);
    write_run(&j, r);
    cli_json_end_object(&j);
    cli_json_finish(&j);
}

static int finish_point(point_run *r)
{
    char *text = NULL, path[4300];
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return record_failure(r, "out of memory"), -1;
    write_point_json(f, r);
    int bad = ferror(f);
    fclose(f);
    in_dir(r, "point.json", path, sizeof path);
    int rc = bad || !text ? -1 : sweep_write_atomic(path, text, len);
    free(text);
    return rc;
}

static int prepare_dir(point_run *r)
{
    char path[4300], settings[65536];
    sweep_point_dir(r->e, r->p, r->dir, sizeof r->dir);
    in_dir(r, "model.slm", r->model, sizeof r->model);
    in_dir(r, "log.txt", r->log, sizeof r->log);
    if (mkdir_p(r->dir)) {
        cli_err("cannot create '%s': %s", r->dir, strerror(errno));
        return -1;
    }
    in_dir(r, "failed.txt", path, sizeof path);
    unlink(path);
    unlink(r->log);
    size_t n = 0;
    for (size_t i = 0; i < r->p->n_opts && n < sizeof settings; i++)
        n += (size_t)snprintf(settings + n, sizeof settings - n, "%s = %s\n", r->p->opts[i].key,
                              r->p->opts[i].value);
    in_dir(r, "settings.txt", path, sizeof path);
    return sweep_write_atomic(path, settings, n < sizeof settings ? n : sizeof settings - 1);
}

/* Everything after training: tables, the estimate, connectivity, point.json. */
static int after_train(point_run *r)
{
    int rc = run_tables(r);
    if (!rc) {
        double t0 = cli_now();
        char err[1024];
        rc = sweep_hw_estimate(r->e, r->dir, sweep_point_opt(r->p, "hardware"), &r->tables,
                               &r->hw, err, sizeof err);
        r->t_estimate = cli_now() - t0;
        if (rc)
            record_failure(r, err);
    }
    if (!rc)
        rc = inspect_model(r);
    if (!rc && sweep_stop_requested())
        rc = -1;
    if (!rc)
        rc = finish_point(r);
    sj_free(&r->train);
    sj_free(&r->tables);
    free(r->readers);
    return rc;
}

int sweep_point_run(const sweep_env *e, const sweep_point *p)
{
    point_run r = {.e = e, .p = p, .t_total = cli_now()};
    int rc = prepare_dir(&r);
    if (!rc)
        rc = run_train(&r);
    return rc ? rc : after_train(&r);
}

/* A copy of @p from at @p to (written atomically). */
static int copy_file(point_run *r, const char *from, const char *to)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    char err[512];
    if (cli_read_file(from, &buf, &len, err, sizeof err))
        return record_failure(r, err), -1;
    int rc = sweep_write_atomic(to, (const char *)buf, len);
    free(buf);
    return rc;
}

int sweep_point_adopt(const sweep_env *e, const sweep_point *p, const char *train_json,
                      const char *model)
{
    point_run r = {.e = e, .p = p, .t_total = cli_now()};
    char path[4300], err[512];
    int rc = prepare_dir(&r);
    in_dir(&r, "train.json", path, sizeof path);
    if (!rc)
        rc = copy_file(&r, model, r.model) || copy_file(&r, train_json, path) ? -1 : 0;
    if (!rc && sj_parse_file(path, &r.train, err, sizeof err))
        rc = (record_failure(&r, err), -1);
    if (!rc && !sj_get(&r.train, "history"))
        rc = (record_failure(&r, "not the --json output of 'sparselut train' (no history)"), -1);
    r.t_train = sj_num(sj_get(&r.train, "seconds"), 0);
    r.t_total -= r.t_train; /* the total of an adopted run includes its training */
    if (rc) {
        sj_free(&r.train);
        return rc;
    }
    return after_train(&r);
}
