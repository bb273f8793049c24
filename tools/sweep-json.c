/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Recursive-descent JSON reader (RFC 8259) into an sj_node tree. Depth is
 * bounded so that a hostile file cannot exhaust the stack.
 */
#include "sweep-json.h"

#include "data.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SJ_MAX_DEPTH 64

typedef struct sj_parser {
    const char *s, *p;
    char *err;
    size_t err_cap;
    int failed;
} sj_parser;

static int fail(sj_parser *ps, const char *what)
{
    if (!ps->failed)
        snprintf(ps->err, ps->err_cap, "JSON: %s at byte %zu", what, (size_t)(ps->p - ps->s));
    ps->failed = 1;
    return -1;
}

static void skip_ws(sj_parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
        ps->p++;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d > 15)
            return -1;
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

static char *put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xc0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xe0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (char)(0xf0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    return o;
}

/* One \u escape (with a following low surrogate if needed); advances *p. */
static int unicode_escape(sj_parser *ps, const char **p, char **o)
{
    unsigned cp, lo;
    if (hex4(*p, &cp))
        return fail(ps, "bad \\u escape");
    *p += 4;
    if (cp >= 0xd800 && cp < 0xdc00) {
        if ((*p)[0] != '\\' || (*p)[1] != 'u' || hex4(*p + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
            return fail(ps, "unpaired surrogate");
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        *p += 6;
    }
    *o = put_utf8(*o, cp);
    return 0;
}

/* A string at ps->p (after the opening quote); the decoded text is never
 * longer than the source, so one allocation of the source length suffices. */
static char *parse_string(sj_parser *ps)
{
    const char *end = ps->p;
    while (*end && *end != '"')
        end += (*end == '\\' && end[1]) ? 2 : 1;
    if (*end != '"')
        return fail(ps, "unterminated string"), NULL;
    char *out = malloc((size_t)(end - ps->p) + 1), *o = out;
    if (!out)
        return fail(ps, "out of memory"), NULL;
    const char *p = ps->p;
    while (p < end) {
        if ((unsigned char)*p < 0x20) {
            ps->p = p;
            return free(out), fail(ps, "control character in string"), NULL;
        }
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        char c = p[1];
        p += 2;
        const char *simple = strchr("\"\\/bfnrt", c);
        if (c == 'u') {
            if (unicode_escape(ps, &p, &o))
                return free(out), NULL;
        } else if (c && simple) {
            *o++ = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
        } else {
            ps->p = p;
            return free(out), fail(ps, "bad escape"), NULL;
        }
    }
    *o = '\0';
    ps->p = end + 1;
    return out;
}

static int parse_value(sj_parser *ps, sj_node *n, int depth);

static int grow(sj_node *n, size_t *cap, int with_keys)
{
    if (n->n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 4;
    sj_node *k = realloc(n->kids, nc * sizeof *k);
    if (!k)
        return -1;
    n->kids = k;
    if (with_keys) {
        char **ks = realloc(n->keys, nc * sizeof *ks);
        if (!ks)
            return -1;
        n->keys = ks;
    }
    *cap = nc;
    return 0;
}

/* Array or object body after its opening bracket. */
static int parse_container(sj_parser *ps, sj_node *n, int depth, int object)
{
    char close = object ? '}' : ']';
    size_t cap = 0;
    n->type = object ? SJ_OBJ : SJ_ARR;
    skip_ws(ps);
    if (*ps->p == close) {
        ps->p++;
        return 0;
    }
    for (;;) {
        skip_ws(ps);
        if (grow(n, &cap, object))
            return fail(ps, "out of memory");
        memset(&n->kids[n->n], 0, sizeof n->kids[n->n]);
        if (object) {
            if (*ps->p != '"')
                return fail(ps, "expected a member name");
            ps->p++;
            char *key = parse_string(ps);
            if (!key)
                return -1;
            n->keys[n->n] = key;
            skip_ws(ps);
            if (*ps->p != ':')
                return n->n++, fail(ps, "expected ':'");
            ps->p++;
        }
        int rc = parse_value(ps, &n->kids[n->n], depth + 1);
        n->n++;
        if (rc)
            return -1;
        skip_ws(ps);
        if (*ps->p == ',') {
            ps->p++;
        } else if (*ps->p == close) {
            ps->p++;
            return 0;
        } else {
            return fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
}

static int parse_number(sj_parser *ps, sj_node *n)
{
    const char *p = ps->p;
    if (*p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return fail(ps, "unexpected character");
    char *end;
    n->type = SJ_NUM;
    n->num = strtod(ps->p, &end);
    ps->p = end;
    return 0;
}

static int parse_value(sj_parser *ps, sj_node *n, int depth)
{
    if (depth > SJ_MAX_DEPTH)
        return fail(ps, "nested too deeply");
    skip_ws(ps);
    static const struct {
        const char *word;
        sj_type type;
        double num;
    } words[] = {{"null", SJ_NULL, 0}, {"true", SJ_BOOL, 1}, {"false", SJ_BOOL, 0}};
    for (size_t i = 0; i < 3; i++) {
        size_t len = strlen(words[i].word);
        if (strncmp(ps->p, words[i].word, len) == 0) {
            n->type = words[i].type;
            n->num = words[i].num;
            ps->p += len;
            return 0;
        }
    }
    switch (*ps->p) {
    case '{': ps->p++; return parse_container(ps, n, depth, 1);
    case '[': ps->p++; return parse_container(ps, n, depth, 0);
    case '"':
        ps->p++;
        n->type = SJ_STR;
        return (n->str = parse_string(ps)) ? 0 : -1;
    default: return parse_number(ps, n);
    }
}

int sj_parse(const char *text, sj_node *out, char *err, size_t err_cap)
{
    sj_parser ps = {.s = text, .p = text, .err = err, .err_cap = err_cap};
    memset(out, 0, sizeof *out);
    if (parse_value(&ps, out, 0) == 0) {
        skip_ws(&ps);
        if (*ps.p == '\0')
            return 0;
        fail(&ps, "trailing characters");
    }
    sj_free(out);
    memset(out, 0, sizeof *out);
    return -1;
}

char *sj_read_text(const char *path, char *err, size_t err_cap)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cli_read_file(path, &buf, &len, err, err_cap))
        return NULL;
    if (memchr(buf, '\0', len)) {
        snprintf(err, err_cap, "%s: not a text file", path);
        free(buf);
        return NULL;
    }
    return (char *)buf;
}

int sj_parse_file(const char *path, sj_node *out, char *err, size_t err_cap)
{
    memset(out, 0, sizeof *out);
    char *buf = sj_read_text(path, err, err_cap);
    if (!buf)
        return -1;
    char msg[256];
    int rc = sj_parse(buf, out, msg, sizeof msg);
    if (rc)
        snprintf(err, err_cap, "%s: %s", path, msg);
    free(buf);
    return rc;
}

void sj_free(sj_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        sj_free(&n->kids[i]);
        if (n->type == SJ_OBJ)
            free(n->keys[i]);
    }
    free(n->kids);
    free(n->keys);
    free(n->str);
    n->kids = NULL;
    n->keys = NULL;
    n->str = NULL;
    n->n = 0;
}

const sj_node *sj_get(const sj_node *n, const char *key)
{
    if (!n || n->type != SJ_OBJ)
        return NULL;
    for (size_t i = 0; i < n->n; i++)
        if (strcmp(n->keys[i], key) == 0)
            return &n->kids[i];
    return NULL;
}

const sj_node *sj_at(const sj_node *n, size_t i)
{
    return n && n->type == SJ_ARR && i < n->n ? &n->kids[i] : NULL;
}

size_t sj_len(const sj_node *n)
{
    return n && (n->type == SJ_ARR || n->type == SJ_OBJ) ? n->n : 0;
}

double sj_num(const sj_node *n, double dflt)
{
    return n && n->type == SJ_NUM ? n->num : dflt;
}

const char *sj_str(const sj_node *n, const char *dflt)
{
    return n && n->type == SJ_STR ? n->str : dflt;
}
