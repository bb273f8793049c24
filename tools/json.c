/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include "json.h"

#include <math.h>

static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* Comma and key before a value at the current level. */
static void prefix(cli_json *j, const char *key)
{
    if (j->count[j->depth]++ > 0)
        fputc(',', j->out);
    if (key) {
        put_string(j->out, key);
        fputc(':', j->out);
    }
}

static void json_open(cli_json *j, const char *key, char c)
{
    prefix(j, key);
    fputc(c, j->out);
    if (j->depth + 1 < CLI_JSON_MAX_DEPTH)
        j->depth++;
    j->count[j->depth] = 0;
}

static void close_level(cli_json *j, char c)
{
    fputc(c, j->out);
    if (j->depth > 0)
        j->depth--;
}

void cli_json_begin_object(cli_json *j, const char *key) { json_open(j, key, '{'); }
void cli_json_end_object(cli_json *j) { close_level(j, '}'); }
void cli_json_begin_array(cli_json *j, const char *key) { json_open(j, key, '['); }
void cli_json_end_array(cli_json *j) { close_level(j, ']'); }

void cli_json_string(cli_json *j, const char *key, const char *value)
{
    prefix(j, key);
    put_string(j->out, value ? value : "");
}

void cli_json_int(cli_json *j, const char *key, int64_t value)
{
    prefix(j, key);
    fprintf(j->out, "%lld", (long long)value);
}

void cli_json_double(cli_json *j, const char *key, double value)
{
    prefix(j, key);
    if (isfinite(value))
        fprintf(j->out, "%.17g", value);
    else
        fputs("null", j->out);
}

void cli_json_bool(cli_json *j, const char *key, int value)
{
    prefix(j, key);
    fputs(value ? "true" : "false", j->out);
}

void cli_json_finish(cli_json *j)
{
    fputc('\n', j->out);
    fflush(j->out);
}
