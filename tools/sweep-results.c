/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Reading a sweep's results back (point directories and their point.json)
 * and the CSV of all points.
 */

#include "cli.h"
#include "sweep.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int exists(const char *dir, const char *name)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static int add_result(sweep_result **r, size_t *n, const char *dir)
{
    sweep_result *nr = realloc(*r, (*n + 1) * sizeof *nr);
    if (!nr)
        return cli_err("out of memory"), -1;
    *r = nr;
    sweep_result *x = &nr[(*n)++];
    memset(x, 0, sizeof *x);
    snprintf(x->dir, sizeof x->dir, "%s", dir);
    char path[4400], err[512];
    snprintf(path, sizeof path, "%s/point.json", dir);
    if (access(path, F_OK) == 0) {
        if (sj_parse_file(path, &x->json, err, sizeof err))
            return cli_err("%s", err), -1;
        x->done = 1;
    } else {
        x->failed = exists(dir, "failed.txt");
    }
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every directory below DIR/points, in name order. */
static int read_listing(const char *dir, sweep_result **r, size_t *n)
{
    char points[4400];
    snprintf(points, sizeof points, "%s/points", dir);
    DIR *d = opendir(points);
    if (!d)
        return cli_err("'%s' is neither a point directory (point.json) nor a sweep (points/)",
                       dir),
               -1;
    char **names = NULL;
    size_t nn = 0;
    int rc = 0;
    for (struct dirent *e; !rc && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char **bigger = realloc(names, (nn + 1) * sizeof *names);
        if (!bigger || !(bigger[nn] = strdup(e->d_name)))
            rc = (cli_err("out of memory"), -1);
        if (bigger)
            names = bigger, nn += !rc;
    }
    closedir(d);
    if (nn)
        qsort(names, nn, sizeof *names, name_cmp);
    for (size_t i = 0; i < nn; i++) {
        char sub[8400];
        snprintf(sub, sizeof sub, "%s/%s", points, names[i]);
        if (!rc)
            rc = add_result(r, n, sub);
        free(names[i]);
    }
    free(names);
    return rc;
}

/* The points of the current sweep file, in order (points.txt from --collect). */
static int read_list_file(const char *dir, sweep_result **r, size_t *n)
{
    char path[4400], line[256];
    snprintf(path, sizeof path, "%s/points.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return cli_err("cannot read '%s': %s", path, strerror(errno)), -1;
    int rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!*line || strchr(line, '/') || line[0] == '.')
            continue;
        char sub[8400];
        snprintf(sub, sizeof sub, "%s/points/%s", dir, line);
        rc = add_result(r, n, sub);
    }
    fclose(f);
    return rc;
}

int sweep_results_read(const char *dir, sweep_result **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int rc;
    if (exists(dir, "point.json") || exists(dir, "failed.txt"))
        rc = add_result(out, n, dir);
    else if (exists(dir, "points.txt"))
        rc = read_list_file(dir, out, n);
    else
        rc = read_listing(dir, out, n);
    if (rc) {
        sweep_results_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

void sweep_results_free(sweep_result *r, size_t n)
{
    for (size_t i = 0; r && i < n; i++)
        sj_free(&r[i].json);
    free(r);
}

/* ------------------------------------------------------------------- CSV */

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

/* Sorted union of the member names of object @p member over all results. */
static size_t key_union(const sweep_result *r, size_t n, const char *member, const char **keys,
                        size_t cap)
{
    size_t nk = 0;
    for (size_t i = 0; i < n; i++) {
        const sj_node *o = sj_get(&r[i].json, member);
        for (size_t k = 0; k < sj_len(o); k++) {
            size_t j = 0;
            while (j < nk && strcmp(keys[j], o->keys[k]) != 0)
                j++;
            if (j == nk && nk < cap)
                keys[nk++] = o->keys[k];
        }
    }
    qsort(keys, nk, sizeof *keys, name_cmp);
    return nk;
}

static void csv_num(FILE *f, double v, const char *fmt)
{
    fputc(',', f);
    if (isfinite(v))
        fprintf(f, fmt, v);
}

/* "a;b;c" of member @p field of every element of @p arr (or the elements). */
static void csv_list(FILE *f, const sj_node *arr, const char *field)
{
    fputc(',', f);
    for (size_t l = 0; l < sj_len(arr); l++) {
        const sj_node *v = field ? sj_get(sj_at(arr, l), field) : sj_at(arr, l);
        fprintf(f, "%s%.0f", l ? ";" : "", sj_num(v, 0));
    }
}

static void csv_row(FILE *f, const sweep_result *x, const char **skeys, size_t ns,
                    const char **vkeys, size_t nv)
{
    const sj_node *j = &x->json;
    const char *base = strrchr(x->dir, '/');
    if (x->done)
        fprintf(f, "%.0f", sj_num(sj_get(j, "index"), 0));
    fputc(',', f);
    csv_field(f, sj_str(sj_get(j, "hash"), base ? base + 1 : x->dir));
    fprintf(f, ",%s,", x->done ? "done" : x->failed ? "failed" : "missing");
    csv_field(f, sj_str(sj_get(j, "section"), ""));
    for (size_t k = 0; k < ns; k++) {
        fputc(',', f);
        csv_field(f, sj_str(sj_get(sj_get(j, "settings"), skeys[k]), ""));
    }
    for (size_t k = 0; k < nv; k++) {
        fputc(',', f);
        csv_field(f, sj_str(sj_get(sj_get(j, "vars"), vkeys[k]), ""));
    }
    const sj_node *acc = sj_get(j, "accuracy");
    csv_num(f, sj_num(sj_get(acc, "test"), NAN), "%.6g");
    csv_num(f, sj_num(sj_get(acc, "best"), NAN), "%.6g");
    csv_num(f, sj_num(sj_get(acc, "best_epoch"), NAN), "%.0f");
    csv_num(f, sj_num(sj_get(sj_get(j, "hardware"), "luts"), NAN), "%.0f");
    fputc(',', f);
    csv_field(f, sj_str(sj_get(sj_get(j, "hardware"), "method"), ""));
    csv_list(f, sj_get(sj_get(j, "hardware"), "layer_luts"), NULL);
    csv_num(f, sj_num(sj_get(sj_get(j, "hardware"), "cost_model_luts"), NAN), "%.0f");
    csv_num(f, sj_num(sj_get(sj_get(j, "tables"), "entries"), NAN), "%.0f");
    csv_list(f, sj_get(sj_get(j, "tables"), "layers"), "entries");
    csv_num(f, sj_num(sj_get(j, "epochs"), NAN), "%.0f");
    csv_num(f, sj_num(sj_get(sj_get(j, "run"), "total_seconds"), NAN), "%.1f");
    fputc('\n', f);
}

int sweep_write_csv(const sweep_result *r, size_t n, const char *path)
{
    const char *skeys[256], *vkeys[256];
    size_t ns = key_union(r, n, "settings", skeys, 256);
    size_t nv = key_union(r, n, "vars", vkeys, 256);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return cli_err("out of memory"), -1;
    fputs("index,hash,state,section", f);
    for (size_t k = 0; k < ns; k++)
        fprintf(f, ",%s", skeys[k]);
    for (size_t k = 0; k < nv; k++)
        fprintf(f, ",{%s}", vkeys[k]);
    fputs(",test_accuracy,best_test_accuracy,best_epoch,luts,luts_method,layer_luts,"
          "cost_model_luts,table_entries,layer_table_entries,epochs_run,seconds\n",
          f);
    for (size_t i = 0; i < n; i++)
        csv_row(f, &r[i], skeys, ns, vkeys, nv);
    int bad = ferror(f);
    fclose(f);
    int rc = bad || !text ? -1 : sweep_write_atomic(path, text, len);
    free(text);
    return rc;
}
