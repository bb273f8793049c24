/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file sweep-json.h
 * @brief A small JSON reader for the sweep and report commands: they read
 * the `--json` output of `train` and `tables` and the `point.json` files.
 *
 * The document is parsed into a tree of nodes; lookups on a missing key or a
 * node of the wrong type return NULL or the caller's default, so readers can
 * chain them without checking every step.
 */
#ifndef SPLUT_TOOLS_SWEEP_JSON_H
#define SPLUT_TOOLS_SWEEP_JSON_H

#include <stddef.h>

typedef enum sj_type { SJ_NULL, SJ_BOOL, SJ_NUM, SJ_STR, SJ_ARR, SJ_OBJ } sj_type;

/** One value; objects keep their members in document order. */
typedef struct sj_node {
    sj_type type;
    double num;           /**< SJ_NUM, SJ_BOOL (0/1) */
    char *str;            /**< SJ_STR (decoded, NUL-terminated) */
    char **keys;          /**< SJ_OBJ: member names, @c n of them */
    struct sj_node *kids; /**< SJ_ARR elements or SJ_OBJ member values */
    size_t n;
} sj_node;

/**
 * @brief Parse NUL-terminated @p text into @p out.
 * @returns 0, or -1 with a message (byte offset) in @p err
 */
int sj_parse(const char *text, sj_node *out, char *err, size_t err_cap);
/**
 * @brief A whole text file (gzip is decompressed), NUL-terminated; NULL with
 * a message when unreadable or when it holds NUL bytes. free() the result.
 */
char *sj_read_text(const char *path, char *err, size_t err_cap);
/** @brief Read and parse a whole file; 0 or -1 with a message naming the file. */
int sj_parse_file(const char *path, sj_node *out, char *err, size_t err_cap);
/** @brief Free the tree below @p n (not @p n itself); safe on a zeroed node. */
void sj_free(sj_node *n);

/** @brief Member @p key of an object, NULL if absent or @p n is not an object. */
const sj_node *sj_get(const sj_node *n, const char *key);
/** @brief Element @p i of an array, NULL if out of range or not an array. */
const sj_node *sj_at(const sj_node *n, size_t i);
/** @brief Number of elements of an array or members of an object, 0 otherwise. */
size_t sj_len(const sj_node *n);
/** @brief The number, or @p dflt when @p n is NULL or not a number (null → dflt). */
double sj_num(const sj_node *n, double dflt);
/** @brief The string, or @p dflt when @p n is NULL or not a string. */
const char *sj_str(const sj_node *n, const char *dflt);

#endif
