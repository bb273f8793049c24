/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Helpers shared by the subcommands that run external HDL tools
 * (`sparselut emit --verify`, `sparselut synth`): shell quoting, running a
 * command in a directory, reading a tool's text output, and the HDL options
 * common to both. The library never runs external programs; these do
 * (through the shell, with every path single-quoted).
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD_CAP 8192

/* Append @p s to @p dst single-quoted for the shell. */
int cli_shell_quote(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(dst);
    if (n + 2 >= cap)
        return -1;
    dst[n++] = '\'';
    for (; *s; s++) {
        const char *piece = *s == '\'' ? "'\\''" : NULL;
        size_t len = piece ? 4 : 1;
        if (n + len + 2 >= cap)
            return -1;
        if (piece)
            memcpy(dst + n, piece, len);
        else
            dst[n] = *s;
        n += len;
    }
    dst[n++] = '\'';
    dst[n] = '\0';
    return 0;
}

int cli_have_program(const char *prog)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
    return system(cmd) == 0;
}

/* Run "cd DIR && BODY" through the shell; returns the exit status (-1 if the
 * command line does not fit). */
int cli_run_in_dir(const char *dir, const char *body)
{
    char cmd[CMD_CAP] = "cd ";
    if (cli_shell_quote(cmd, sizeof cmd, dir) != 0 || strlen(cmd) + strlen(body) + 8 >= sizeof cmd)
        return -1;
    strcat(cmd, " && ");
    strcat(cmd, body);
    return cli_run_shell(cmd);
}

char *cli_read_text(const char *path)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    char err[256];
    if (cli_read_file(path, &buf, &len, err, sizeof err) != 0)
        return NULL;
    char *s = realloc(buf, len + 1);
    if (!s) {
        free(buf);
        return NULL;
    }
    s[len] = '\0';
    return s;
}


/* SPLUT_HDL_* flags from the --full-case, --dont-care and --no-reset options. */
uint32_t cli_hdl_flags(int full_case, int dont_care, int no_reset)
{
    return (full_case ? SPLUT_HDL_FULL_CASE : 0u) | (dont_care ? SPLUT_HDL_DONT_CARE : 0u) |
           (no_reset ? SPLUT_HDL_NO_RESET : 0u);
}


int cli_parse_pipeline(const char *v, int32_t *p)
{
    if (strcmp(v, "none") == 0)
        *p = SPLUT_PIPE_NONE;
    else if (strcmp(v, "layer") == 0)
        *p = SPLUT_PIPE_LAYER;
    else if (strcmp(v, "sublayer") == 0)
        *p = SPLUT_PIPE_SUBLAYER;
    else
        return -1;
    return 0;
}

