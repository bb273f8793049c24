/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The sweep file (docs/sweep.md): `key = v1, v2, a..b[/step], "literal, with commas"`
 * lines, `{NAME} = ...` placeholders substituted into values, `[name]` sections
 * as alternatives, '#' comments. A point's identity is the FNV-1a hash of its
 * canonical settings (sorted `key=value` lines: the train options and the
 * sweep's own `hardware`), so the same settings always land in the same
 * directory whatever the order or the section.
 */
#include "sweep.h"

#include "cli.h"
#include "data.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define SWEEP_MAX_VALUES 100000
#define SWEEP_HASH_HEADER "sparselut-sweep-point 1\n"

/* train options a sweep may not set: the sweep chooses them per point. */
static const char *const reserved_options[] = {
    "out", "checkpoint", "resume", "json", "progress", "threads", "help", "h",
};
static const char *const flag_options[] = {"keep-best", "bn-calibrate", "pretrain"};

/* The hardware estimate of a point (sweep_hw_estimate): always in the
 * canonical settings, so that changing it (or its default) names new points. */
#define HARDWARE_KEY "hardware"
#define HARDWARE_DEFAULT "fast"

int sweep_is_sweep_setting(const char *key)
{
    return strcmp(key, HARDWARE_KEY) == 0;
}

int sweep_is_flag_option(const char *key)
{
    for (size_t i = 0; i < sizeof flag_options / sizeof *flag_options; i++)
        if (strcmp(key, flag_options[i]) == 0)
            return 1;
    return 0;
}

static int errf(char *err, size_t cap, const char *fmt, ...) CLI_PRINTF(3, 4);
static int errf(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

static char *dup_range(const char *a, const char *b)
{
    size_t n = (size_t)(b - a);
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, a, n);
        s[n] = '\0';
    }
    return s;
}

/* Whitespace runs collapse to one space, ends trimmed: "a  b " == "a b". */
static char *canonical_text(const char *a, const char *b)
{
    while (a < b && isspace((unsigned char)*a))
        a++;
    while (b > a && isspace((unsigned char)b[-1]))
        b--;
    char *s = malloc((size_t)(b - a) + 1), *o = s;
    if (!s)
        return NULL;
    for (const char *p = a; p < b; p++) {
        if (isspace((unsigned char)*p)) {
            if (o > s && o[-1] != ' ')
                *o++ = ' ';
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return s;
}

static int push_value(sweep_axis *ax, char *v)
{
    if (!v)
        return -1;
    char **nv = ax->n < SWEEP_MAX_VALUES ? realloc(ax->values, (ax->n + 1) * sizeof *nv) : NULL;
    if (!nv) {
        free(v);
        return -1;
    }
    ax->values = nv;
    ax->values[ax->n++] = v;
    return 0;
}

/* "a..b" or "a..b/step" with non-negative integers; 1 if it is one, 0 if not. */
static int parse_range(const char *item, uint64_t *lo, uint64_t *hi, uint64_t *step)
{
    char buf[128];
    if (strlen(item) >= sizeof buf)
        return 0;
    strcpy(buf, item);
    char *dots = strstr(buf, "..");
    if (!dots)
        return 0;
    *dots = '\0';
    char *slash = strchr(dots + 2, '/');
    *step = 1;
    if (slash) {
        *slash = '\0';
        if (cli_parse_u64(slash + 1, 1, UINT32_MAX, step))
            return -1;
    }
    if (cli_parse_u64(buf, 0, UINT32_MAX, lo) || cli_parse_u64(dots + 2, 0, UINT32_MAX, hi) ||
        *hi < *lo)
        return -1;
    return 1;
}

static int add_item(sweep_axis *ax, const char *a, const char *b, int quoted, char *err,
                    size_t cap, const char *where)
{
    char *item = quoted ? dup_range(a, b) : canonical_text(a, b);
    if (!item)
        return errf(err, cap, "%s: out of memory", where);
    uint64_t lo, hi, step;
    int r = quoted ? 0 : parse_range(item, &lo, &hi, &step);
    if (r < 0) {
        errf(err, cap, "%s: bad range '%s' (a..b or a..b/step, integers, a <= b)", where, item);
        free(item);
        return -1;
    }
    if (r == 0)
        return push_value(ax, item) ? errf(err, cap, "%s: too many values", where) : 0;
    free(item);
    for (uint64_t v = lo; v <= hi; v += step) {
        char num[24];
        snprintf(num, sizeof num, "%llu", (unsigned long long)v);
        if (push_value(ax, strdup(num)))
            return errf(err, cap, "%s: too many values", where);
    }
    return 0;
}

/* The comma-separated list after '='. */
static int parse_list(const char *s, sweep_axis *ax, char *err, size_t cap, const char *where)
{
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *a = p, *b;
        int quoted = *p == '"';
        if (quoted) {
            a = ++p;
            while (*p && *p != '"')
                p++;
            if (*p != '"')
                return errf(err, cap, "%s: unterminated quote", where);
            b = p++;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p && *p != ',')
                return errf(err, cap, "%s: text after a quoted value", where);
        } else {
            while (*p && *p != ',')
                p++;
            b = p;
        }
        const char *c = a;
        while (!quoted && c < b && isspace((unsigned char)*c))
            c++;
        if (!quoted && c == b)
            return errf(err, cap, "%s: empty value", where);
        if (add_item(ax, a, b, quoted, err, cap, where))
            return -1;
        if (*p != ',')
            return 0;
        p++;
    }
}

static int valid_name(const char *s, int var)
{
    if (!*s)
        return 0;
    for (const char *p = s; *p; p++) {
        int ok = var ? (isalnum((unsigned char)*p) || *p == '_')
                     : (islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-');
        if (!ok)
            return 0;
    }
    return 1;
}

static int check_key(const char *key, int var, const char *where, char *err, size_t cap)
{
    if (!valid_name(key, var))
        return errf(err, cap,
                    var ? "%s: placeholder names are letters, digits and '_', got '{%s}'"
                        : "%s: option names are lower-case train options without '--', got '%s'",
                    where, key);
    if (var)
        return 0;
    for (size_t i = 0; i < sizeof reserved_options / sizeof *reserved_options; i++)
        if (strcmp(key, reserved_options[i]) == 0)
            return errf(err, cap, "%s: '%s' is chosen by the sweep for every point", where, key);
    return 0;
}

static int add_section(sweep_spec *s, const char *line, const char *where, char *err, size_t cap)
{
    const char *close = strchr(line, ']');
    if (!close || close[1])
        return errf(err, cap, "%s: a section line is [name]", where);
    char *name = canonical_text(line + 1, close);
    char **ns = name ? realloc(s->sections, (s->n_sections + 1) * sizeof *ns) : NULL;
    if (!ns) {
        free(name);
        return errf(err, cap, "%s: out of memory", where);
    }
    s->sections = ns;
    s->sections[s->n_sections++] = name;
    if (!valid_name(name, 0) && !valid_name(name, 1))
        return errf(err, cap, "%s: bad section name '%s'", where, name);
    for (size_t i = 0; i + 1 < s->n_sections; i++)
        if (strcmp(s->sections[i], name) == 0)
            return errf(err, cap, "%s: section [%s] appears twice", where, name);
    return 0;
}

static int add_axis(sweep_spec *s, char *line, unsigned lineno, const char *where, char *err,
                    size_t cap)
{
    char *eq = strchr(line, '=');
    if (!eq)
        return errf(err, cap, "%s: expected 'key = values'", where);
    char *key = canonical_text(line, eq);
    if (!key)
        return errf(err, cap, "%s: out of memory", where);
    int var = key[0] == '{';
    if (var) {
        size_t n = strlen(key);
        if (n < 3 || key[n - 1] != '}')
            return free(key), errf(err, cap, "%s: a placeholder is written {NAME}", where);
        memmove(key, key + 1, n - 2);
        key[n - 2] = '\0';
    }
    int section = (int)s->n_sections - 1;
    for (size_t i = 0; i < s->n_axes; i++)
        if (s->axes[i].section == section && s->axes[i].is_var == var &&
            strcmp(s->axes[i].key, key) == 0) {
            errf(err, cap, "%s: '%s' is set twice (line %u)", where, key, s->axes[i].line);
            return free(key), -1;
        }
    sweep_axis *na = realloc(s->axes, (s->n_axes + 1) * sizeof *na);
    if (!na)
        return free(key), errf(err, cap, "%s: out of memory", where);
    s->axes = na;
    sweep_axis *ax = &s->axes[s->n_axes++];
    *ax = (sweep_axis){.key = key, .is_var = var, .line = lineno, .section = section};
    if (check_key(key, var, where, err, cap))
        return -1;
    return parse_list(eq + 1, ax, err, cap, where);
}

/* Axes that apply to section @p sec: its own, and the common ones it does not override. */
static size_t section_axes(const sweep_spec *s, int sec, const sweep_axis **out)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n_axes; i++) {
        const sweep_axis *a = &s->axes[i];
        int overridden = 0;
        if (a->section == -1 && sec >= 0)
            for (size_t j = 0; j < s->n_axes; j++)
                overridden |= s->axes[j].section == sec && s->axes[j].is_var == a->is_var &&
                              strcmp(s->axes[j].key, a->key) == 0;
        if ((a->section == -1 && !overridden) || a->section == sec)
            out[k++] = a;
    }
    return k;
}

static size_t section_points(const sweep_spec *s, int sec)
{
    const sweep_axis **axes = malloc((s->n_axes + 1) * sizeof *axes);
    if (!axes)
        return 0;
    size_t na = section_axes(s, sec, axes), n = 1;
    for (size_t i = 0; i < na && n; i++)
        n = axes[i]->n <= SIZE_MAX / n ? n * axes[i]->n : 0;
    free(axes);
    return n;
}

static int count_points(sweep_spec *s, const char *name, char *err, size_t cap)
{
    s->n_points = 0;
    size_t nsec = s->n_sections ? s->n_sections : 1;
    for (size_t k = 0; k < nsec; k++) {
        size_t n = section_points(s, s->n_sections ? (int)k : -1);
        if (!n || s->n_points > SWEEP_MAX_VALUES - n)
            return errf(err, cap, "%s: the sweep has more than %d points", name,
                        SWEEP_MAX_VALUES);
        s->n_points += n;
    }
    return 0;
}

int sweep_spec_parse(const char *text, const char *name, sweep_spec *s, char *err,
                     size_t err_cap)
{
    memset(s, 0, sizeof *s);
    char *copy = strdup(text);
    if (!copy)
        return errf(err, err_cap, "%s: out of memory", name);
    int rc = 0;
    unsigned lineno = 0;
    for (char *line = copy, *next; line && !rc; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        char *hash = strchr(line, '#');
        if (hash && !memchr(line, '"', (size_t)(hash - line)))
            *hash = '\0';
        char *t = canonical_text(line, line + strlen(line));
        if (!t) {
            rc = errf(err, err_cap, "%s: out of memory", name);
            break;
        }
        char where[512];
        snprintf(where, sizeof where, "%s:%u", name, lineno);
        if (t[0] == '[')
            rc = add_section(s, t, where, err, err_cap);
        else if (t[0])
            rc = add_axis(s, t, lineno, where, err, err_cap);
        free(t);
    }
    free(copy);
    if (!rc && !s->n_axes)
        rc = errf(err, err_cap, "%s: no settings", name);
    if (!rc)
        rc = count_points(s, name, err, err_cap);
    if (rc)
        sweep_spec_free(s);
    return rc;
}

int sweep_spec_load(const char *path, sweep_spec *s, char *err, size_t err_cap)
{
    memset(s, 0, sizeof *s);
    char *text = sj_read_text(path, err, err_cap);
    if (!text)
        return -1;
    int rc = sweep_spec_parse(text, path, s, err, err_cap);
    free(text);
    return rc;
}

void sweep_spec_free(sweep_spec *s)
{
    for (size_t i = 0; i < s->n_axes; i++) {
        for (size_t k = 0; k < s->axes[i].n; k++)
            free(s->axes[i].values[k]);
        free(s->axes[i].values);
        free(s->axes[i].key);
    }
    for (size_t i = 0; i < s->n_sections; i++)
        free(s->sections[i]);
    free(s->axes);
    free(s->sections);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------ points */

/* @p v with every {NAME} replaced by the point's value; marks used placeholders. */
static char *substitute(const char *v, const sweep_kv *vars, size_t nv, int *used, char *err,
                        size_t cap)
{
    size_t len = 0, size = strlen(v) + 1;
    char *out = malloc(size);
    for (const char *p = v; out && *p;) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        const char *add = p;
        size_t addn = 1;
        if (close) {
            size_t k = 0;
            while (k < nv && !(strlen(vars[k].key) == (size_t)(close - p - 1) &&
                               strncmp(vars[k].key, p + 1, (size_t)(close - p - 1)) == 0))
                k++;
            if (k == nv) {
                errf(err, cap, "'%s' uses the placeholder %.*s that is not defined", v,
                     (int)(close - p + 1), p);
                free(out);
                return NULL;
            }
            used[k] = 1;
            add = vars[k].value;
            addn = strlen(add);
            p = close + 1;
        } else {
            p++;
        }
        if (len + addn + 1 > size) {
            size = 2 * (len + addn + 1);
            char *bigger = realloc(out, size);
            if (!bigger)
                free(out);
            out = bigger;
        }
        if (out) {
            memcpy(out + len, add, addn);
            len += addn;
        }
    }
    if (!out)
        return errf(err, cap, "out of memory"), NULL;
    out[len] = '\0';
    return out;
}

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const sweep_kv *)a)->key, ((const sweep_kv *)b)->key);
}

static int is_no(const char *v)
{
    return !strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0");
}

static int is_yes(const char *v)
{
    return !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1");
}

/* `hardware` is checked, and set to its default when the sweep does not set it. */
static int hardware_setting(sweep_point *p, char *err, size_t cap)
{
    const char *v = sweep_point_opt(p, HARDWARE_KEY);
    if (v)
        return strcmp(v, "fast") && strcmp(v, "model")
                   ? errf(err, cap, "'hardware' is fast or model, got '%s'", v)
                   : 0;
    sweep_kv *more = realloc(p->opts, (p->n_opts + 1) * sizeof *more);
    if (!more)
        return errf(err, cap, "out of memory");
    p->opts = more;
    sweep_kv *kv = &p->opts[p->n_opts];
    kv->key = strdup(HARDWARE_KEY);
    kv->value = strdup(HARDWARE_DEFAULT);
    if (!kv->key || !kv->value) {
        free(kv->key);
        free(kv->value);
        return errf(err, cap, "out of memory");
    }
    p->n_opts++;
    return 0;
}

/* Flags become "yes" or disappear; options are sorted; the hash is computed. */
static int finish_point(sweep_point *p, char *err, size_t cap)
{
    if (hardware_setting(p, err, cap))
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < p->n_opts; i++) {
        sweep_kv kv = p->opts[i];
        if (sweep_is_flag_option(kv.key)) {
            if (!is_yes(kv.value) && !is_no(kv.value))
                return errf(err, cap, "'%s' is a flag: yes or no, got '%s'", kv.key, kv.value);
            if (is_no(kv.value)) {
                free(kv.key);
                free(kv.value);
                continue;
            }
            free(kv.value);
            kv.value = strdup("yes");
            if (!kv.value)
                return free(kv.key), errf(err, cap, "out of memory");
        }
        p->opts[k++] = kv;
    }
    p->n_opts = k;
    qsort(p->opts, p->n_opts, sizeof *p->opts, kv_cmp);
    uint64_t h = cli_fnv1a(CLI_FNV1A_BASIS, SWEEP_HASH_HEADER, strlen(SWEEP_HASH_HEADER));
    for (size_t i = 0; i < p->n_opts; i++) {
        h = cli_fnv1a(h, p->opts[i].key, strlen(p->opts[i].key));
        h = cli_fnv1a(h, "=", 1);
        h = cli_fnv1a(h, p->opts[i].value, strlen(p->opts[i].value));
        h = cli_fnv1a(h, "\n", 1);
    }
    /* FNV-1a alone leaves similar settings with similar hashes; the
     * MurmurHash3 finaliser spreads them so directory names differ early. */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    p->hash = h;
    snprintf(p->hex, sizeof p->hex, "%016llx", (unsigned long long)h);
    return 0;
}

/* Section and index inside it of global point @p index. */
static int locate(const sweep_spec *s, size_t index, int *sec, size_t *local)
{
    size_t nsec = s->n_sections ? s->n_sections : 1;
    for (size_t k = 0; k < nsec; k++) {
        int sk = s->n_sections ? (int)k : -1;
        size_t n = section_points(s, sk);
        if (index < n) {
            *sec = sk;
            *local = index;
            return 0;
        }
        index -= n;
    }
    return -1;
}

/* Picks each axis's value for local index @p local (the last axis varies fastest). */
static int pick_values(const sweep_axis **axes, size_t na, size_t local, sweep_point *p)
{
    size_t nv = 0, no = 0;
    for (size_t i = 0; i < na; i++)
        axes[i]->is_var ? nv++ : no++;
    p->vars = calloc(nv + 1, sizeof *p->vars);
    p->opts = calloc(no + 1, sizeof *p->opts);
    size_t *pick = calloc(na + 1, sizeof *pick);
    if (!p->vars || !p->opts || !pick)
        return free(pick), -1;
    for (size_t i = na; i-- > 0;) {
        pick[i] = local % axes[i]->n;
        local /= axes[i]->n;
    }
    int rc = 0;
    for (size_t i = 0; i < na && !rc; i++) {
        const sweep_axis *a = axes[i];
        sweep_kv *kv = a->is_var ? &p->vars[p->n_vars++] : &p->opts[p->n_opts++];
        kv->key = strdup(a->key);
        kv->value = strdup(a->values[pick[i]]);
        rc = kv->key && kv->value ? 0 : -1;
    }
    free(pick);
    return rc;
}

int sweep_point_make(const sweep_spec *s, size_t index, sweep_point *p, char *err,
                     size_t err_cap)
{
    memset(p, 0, sizeof *p);
    p->index = index;
    int sec;
    size_t local;
    if (index >= s->n_points || locate(s, index, &sec, &local))
        return errf(err, err_cap, "point %zu does not exist (the sweep has %zu)", index,
                    s->n_points);
    p->section = sec >= 0 ? s->sections[sec] : "";
    const sweep_axis **axes = malloc((s->n_axes + 1) * sizeof *axes);
    int *used = calloc(s->n_axes + 1, sizeof *used);
    int rc = axes && used ? 0 : errf(err, err_cap, "out of memory");
    if (!rc && pick_values(axes, section_axes(s, sec, axes), local, p))
        rc = errf(err, err_cap, "out of memory");
    for (size_t i = 0; !rc && i < p->n_opts; i++) {
        char *v = substitute(p->opts[i].value, p->vars, p->n_vars, used, err, err_cap);
        if (!v)
            rc = -1;
        else
            free(p->opts[i].value), p->opts[i].value = v;
    }
    for (size_t k = 0; !rc && k < p->n_vars; k++)
        if (!used[k])
            rc = errf(err, err_cap, "the placeholder {%s} is not used by any setting",
                      p->vars[k].key);
    if (!rc)
        rc = finish_point(p, err, err_cap);
    free(axes);
    free(used);
    if (rc)
        sweep_point_free(p);
    return rc;
}

void sweep_point_free(sweep_point *p)
{
    for (size_t i = 0; p->opts && i < p->n_opts; i++)
        free(p->opts[i].key), free(p->opts[i].value);
    for (size_t i = 0; p->vars && i < p->n_vars; i++)
        free(p->vars[i].key), free(p->vars[i].value);
    free(p->opts);
    free(p->vars);
    memset(p, 0, sizeof *p);
}

const char *sweep_point_opt(const sweep_point *p, const char *key)
{
    for (size_t i = 0; i < p->n_opts; i++)
        if (strcmp(p->opts[i].key, key) == 0)
            return p->opts[i].value;
    return NULL;
}
