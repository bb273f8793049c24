/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The Slurm executor: the unfinished points become one job array whose task
 * K runs `sparselut sweep SPEC --point K` (array indices are the point
 * numbers, so a resubmission lists only the missing or failed ones), and a
 * collection job that depends on the array (afterany: it runs even when some
 * points failed) writes the summary and the report.
 */

#include "cli.h"
#include "sweep.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_SBATCH_ARGS 64

/* Single-quoted for sh unless it needs no quoting. */
static void print_quoted(FILE *f, const char *s)
{
    int plain = *s != '\0';
    for (const char *p = s; *p; p++)
        plain &= (strchr("@%+=:,./-_", *p) != NULL) || (*p >= '0' && *p <= '9') ||
                 (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');
    if (plain) {
        fputs(s, f);
        return;
    }
    fputc('\'', f);
    for (const char *p = s; *p; p++)
        *p == '\'' ? fputs("'\\''", f) : fputc(*p, f);
    fputc('\'', f);
}

static void print_command(FILE *f, char *const argv[])
{
    for (size_t i = 0; argv[i]; i++) {
        if (i)
            fputc(' ', f);
        print_quoted(f, argv[i]);
    }
    fputc('\n', f);
}

/* "0-3,5,9-10" from the sorted point numbers; optional "%throttle". */
static char *array_list(const size_t *idx, size_t n, uint64_t throttle)
{
    size_t cap = n * 24 + 32, len = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && idx[j + 1] == idx[j] + 1)
            j++;
        len += (size_t)snprintf(s + len, cap - len, i ? ",%zu" : "%zu", idx[i]);
        if (j > i)
            len += (size_t)snprintf(s + len, cap - len, "-%zu", idx[j]);
        i = j + 1;
    }
    if (throttle)
        snprintf(s + len, cap - len, "%%%llu", (unsigned long long)throttle);
    return s;
}

static int write_script(const sweep_env *e, const char *name, const char *tail)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/slurm/%s", e->out, name);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return cli_err("out of memory"), -1;
    fprintf(f, "#!/bin/sh\n# Written by 'sparselut sweep --slurm' (docs/sweep.md).\nexec ");
    char threads[24];
    snprintf(threads, sizeof threads, "%u", e->threads);
    char *argv[] = {(char *)e->exe, "sweep", (char *)e->spec, "--out", (char *)e->out,
                    "--threads", threads, NULL};
    for (size_t i = 0; argv[i]; i++) {
        print_quoted(f, argv[i]);
        fputc(' ', f);
    }
    fprintf(f, "%s\n", tail);
    fclose(f);
    int rc = text ? sweep_write_atomic(path, text, len) : -1;
    free(text);
    if (!rc && chmod(path, 0755))
        rc = (cli_err("chmod '%s': %s", path, strerror(errno)), -1);
    return rc;
}

/* Runs sbatch, its stdout (the --parsable job id) into @p id. */
static int run_sbatch(char *const argv[], char *id, size_t cap)
{
    int fd[2];
    if (pipe(fd))
        return cli_err("pipe: %s", strerror(errno)), -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        execvp(argv[0], argv);
        perror("sparselut sweep: cannot run sbatch");
        _exit(127);
    }
    close(fd[1]);
    size_t len = 0;
    ssize_t got;
    while (pid > 0 && len + 1 < cap &&
           ((got = read(fd[0], id + len, cap - 1 - len)) > 0 || (got < 0 && errno == EINTR)))
        len += got > 0 ? (size_t)got : 0;
    close(fd[0]);
    id[len] = '\0';
    id[strcspn(id, ";\n")] = '\0'; /* "JOBID[;CLUSTER]" */
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return cli_err("cannot run sbatch: %s", strerror(errno)), -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return cli_err("sbatch failed (exit status %d)", WIFEXITED(status) ? WEXITSTATUS(status)
                                                                           : 128),
               WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return 0;
}

typedef struct sbatch_cmd {
    char *argv[MAX_SBATCH_ARGS + 16];
    size_t n;
} sbatch_cmd;

static void push(sbatch_cmd *c, char *arg)
{
    if (c->n < sizeof c->argv / sizeof *c->argv - 1)
        c->argv[c->n++] = arg;
    c->argv[c->n] = NULL;
}

/* Extra arguments split at spaces into @p buf (modified). */
static void push_extra(sbatch_cmd *c, char *buf)
{
    for (char *tok = strtok(buf, " \t"); tok; tok = strtok(NULL, " \t"))
        push(c, tok);
}

typedef struct submit {
    const sweep_env *e;
    char array[4300], out_tpl[4300], collect_out[4300], dep[192], cpus[40], script[4300],
        cscript[4300], extra1[2048], extra2[2048], job[128];
} submit;

static int submit_jobs(submit *s, const char *list, int wait, int dry_run)
{
    sbatch_cmd a = {.n = 0}, c = {.n = 0};
    snprintf(s->array, sizeof s->array, "--array=%s", list);
    snprintf(s->out_tpl, sizeof s->out_tpl, "--output=%s/slurm/point-%%a.out", s->e->out);
    snprintf(s->collect_out, sizeof s->collect_out, "--output=%s/slurm/collect.out", s->e->out);
    snprintf(s->cpus, sizeof s->cpus, "--cpus-per-task=%u", s->e->threads ? s->e->threads : 1);
    snprintf(s->script, sizeof s->script, "%s/slurm/point.sh", s->e->out);
    snprintf(s->cscript, sizeof s->cscript, "%s/slurm/collect.sh", s->e->out);
    char *head[] = {"sbatch", "--parsable", "--job-name=sparselut-sweep", s->array, s->cpus,
                    s->out_tpl};
    for (size_t i = 0; i < sizeof head / sizeof *head; i++)
        push(&a, head[i]);
    push_extra(&a, s->extra1);
    push(&a, s->script);
    if (dry_run) {
        print_command(stdout, a.argv);
        snprintf(s->job, sizeof s->job, "JOBID");
    } else {
        print_command(stdout, a.argv);
        fflush(stdout);
        int rc = run_sbatch(a.argv, s->job, sizeof s->job);
        if (rc)
            return rc < 0 ? CLI_EXIT_FAIL : rc;
        fprintf(stderr, "sparselut sweep: job array %s submitted\n", s->job);
    }
    snprintf(s->dep, sizeof s->dep, "--dependency=afterany:%s", s->job);
    char *chead[] = {"sbatch", "--parsable", "--job-name=sparselut-sweep-collect", s->dep,
                     s->collect_out};
    for (size_t i = 0; i < sizeof chead / sizeof *chead; i++)
        push(&c, chead[i]);
    if (wait)
        push(&c, "--wait");
    push_extra(&c, s->extra2);
    push(&c, s->cscript);
    print_command(stdout, c.argv);
    fflush(stdout);
    if (dry_run)
        return CLI_EXIT_OK;
    char cjob[128];
    int rc = run_sbatch(c.argv, cjob, sizeof cjob);
    if (rc)
        return rc < 0 ? CLI_EXIT_FAIL : rc;
    fprintf(stderr, "sparselut sweep: collection job %s%s\n", cjob,
            wait ? " finished" : " submitted (after the array)");
    return CLI_EXIT_OK;
}

int sweep_slurm_submit(const sweep_env *e, const sweep_point *points, size_t n,
                       const char *sbatch_args, uint64_t throttle, int wait, int dry_run)
{
    size_t *todo = malloc((n + 1) * sizeof *todo), nt = 0;
    if (!todo)
        return cli_err("out of memory"), CLI_EXIT_FAIL;
    for (size_t k = 0; k < n; k++)
        if (!sweep_point_done(e, &points[k]))
            todo[nt++] = k;
    fprintf(stderr, "sparselut sweep: %zu points, %zu finished, %zu to submit\n", n, n - nt, nt);
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/slurm", e->out);
    int rc = CLI_EXIT_OK;
    if (mkdir(dir, 0755) && errno != EEXIST)
        rc = (cli_err("cannot create '%s': %s", dir, strerror(errno)), CLI_EXIT_FAIL);
    if (!rc && (write_script(e, "point.sh", "--point \"$SLURM_ARRAY_TASK_ID\"") ||
                write_script(e, "collect.sh", "--collect")))
        rc = CLI_EXIT_FAIL;
    char *list = rc ? NULL : array_list(todo, nt, throttle);
    if (!rc && !list)
        rc = (cli_err("out of memory"), CLI_EXIT_FAIL);
    if (!rc && nt == 0) {
        fprintf(stderr, "sparselut sweep: nothing to submit; run 'sparselut sweep %s --collect' "
                        "for the summary\n", e->spec);
    } else if (!rc) {
        submit *s = calloc(1, sizeof *s);
        if (!s) {
            rc = (cli_err("out of memory"), CLI_EXIT_FAIL);
        } else {
            s->e = e;
            snprintf(s->extra1, sizeof s->extra1, "%s", sbatch_args ? sbatch_args : "");
            snprintf(s->extra2, sizeof s->extra2, "%s", sbatch_args ? sbatch_args : "");
            rc = submit_jobs(s, list, wait, dry_run);
            free(s);
        }
        if (!rc && wait && !dry_run) {
            /* sbatch --wait also returns 0 for a cancelled job: count instead */
            size_t missing = 0;
            for (size_t k = 0; k < n; k++)
                missing += !sweep_point_done(e, &points[k]);
            fprintf(stderr, "sparselut sweep: %zu of %zu points finished\n", n - missing, n);
            rc = missing ? CLI_EXIT_FAIL : CLI_EXIT_OK;
        }
    }
    free(list);
    free(todo);
    return rc;
}
