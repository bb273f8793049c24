/*
 * The file-I/O module: atomic replace leaves the old file or the new one and
 * no temporary; the reader refuses FIFOs and directories without blocking and
 * files over its limit before allocating; messages carry the errno text.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio-priv.h"

typedef struct fixture {
    splut_ctx *ctx;
    char dir[64];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || splut_ctx_create(NULL, &f->ctx) != SPLUT_OK)
        return -1;
    strcpy(f->dir, "/tmp/splut-fileio-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    splut_ctx_unref(f->ctx);
    free(f);
    return 0;
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static char *path_in(fixture *f, const char *name)
{
    char *p = splut__path_join(f->ctx, f->dir, name);
    assert_non_null(p);
    return p;
}

static void test_replace_and_read_back(void **state)
{
    fixture *f = *state;
    char *p = path_in(f, "a.bin");
    assert_int_equal(splut__write_file_atomic(f->ctx, p, "first", 5), SPLUT_OK);
    assert_int_equal(splut__write_file_atomic(f->ctx, p, "second!", 7), SPLUT_OK);
    uint8_t *buf = NULL;
    size_t n = 0;
    assert_int_equal(splut__read_file(f->ctx, p, 100, &buf, &n), SPLUT_OK);
    assert_int_equal(n, 7);
    assert_memory_equal(buf, "second!", 8); /* with the terminating NUL */
    splut__free(f->ctx, buf);
    assert_int_equal(count_entries(f->dir), 1); /* no temporary left */
    splut__free(f->ctx, p);
}

/* A failed write (abort, or a commit after a failed write) keeps the old file. */
static void test_abort_keeps_old_file(void **state)
{
    fixture *f = *state;
    char *p = path_in(f, "b.txt");
    assert_int_equal(splut__write_file_atomic(f->ctx, p, "old", 3), SPLUT_OK);
    splut_afile af;
    assert_int_equal(splut__afile_open(f->ctx, p, &af), SPLUT_OK);
    splut__afile_printf(&af, "new contents %d", 1);
    assert_int_equal(count_entries(f->dir), 2); /* the temporary exists meanwhile */
    splut__afile_abort(&af);
    assert_int_equal(splut__afile_open(f->ctx, p, &af), SPLUT_OK);
    splut__afile_write(&af, "x", 1);
    af.failed = true; /* as after a short fwrite */
    af.err = 28;      /* ENOSPC */
    assert_int_equal(splut__afile_commit(&af), SPLUT_E_IO);
    assert_non_null(strstr(splut_ctx_last_error(f->ctx), strerror(28)));
    uint8_t *buf = NULL;
    size_t n = 0;
    assert_int_equal(splut__read_file(f->ctx, p, 100, &buf, &n), SPLUT_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "old", 3);
    splut__free(f->ctx, buf);
    assert_int_equal(count_entries(f->dir), 1);
    splut__free(f->ctx, p);
}

static void test_unwritable_directory(void **state)
{
    fixture *f = *state;
    assert_int_equal(splut__write_file_atomic(f->ctx, "/nonexistent-dir/x.bin", "x", 1),
                     SPLUT_E_IO);
    assert_non_null(strstr(splut_ctx_last_error(f->ctx), "No such file or directory"));
}

static void test_reader_refuses_special_files(void **state)
{
    fixture *f = *state;
    char *fifo = path_in(f, "fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    uint8_t *buf = NULL;
    size_t n = 0;
    /* would block forever in open() without O_NONBLOCK: no writer exists */
    assert_int_equal(splut__read_file(f->ctx, fifo, 100, &buf, &n), SPLUT_E_IO);
    assert_non_null(strstr(splut_ctx_last_error(f->ctx), "FIFO"));
    assert_int_equal(splut__read_file(f->ctx, f->dir, 100, &buf, &n), SPLUT_E_IO);
    assert_non_null(strstr(splut_ctx_last_error(f->ctx), "directory"));
    char *missing = path_in(f, "missing");
    assert_int_equal(splut__read_file(f->ctx, missing, 100, &buf, &n), SPLUT_E_IO);
    assert_non_null(strstr(splut_ctx_last_error(f->ctx), "No such file"));
    char *big = path_in(f, "big");
    assert_int_equal(splut__write_file_atomic(f->ctx, big, "0123456789", 10), SPLUT_OK);
    assert_int_equal(splut__read_file(f->ctx, big, 9, &buf, &n), SPLUT_E_FORMAT);
    assert_int_equal(splut__read_file(f->ctx, big, 10, &buf, &n), SPLUT_OK);
    splut__free(f->ctx, buf);
    splut__free(f->ctx, fifo);
    splut__free(f->ctx, missing);
    splut__free(f->ctx, big);
}

/* Allocator that writes the name of a file that must survive into every block
 * it hands out and fails its second request: afile_open's temporary-name buffer
 * then holds that name, and its path buffer is the one refused. */
typedef struct poison_alloc {
    const char *victim;
    int calls;
} poison_alloc;

static void *poison_alloc_fn(void *user, size_t size, size_t align)
{
    poison_alloc *pa = user;
    (void)align;
    if (pa->calls++ == 1)
        return NULL;
    char *p = malloc(size);
    if (p && size > strlen(pa->victim))
        strcpy(p, pa->victim);
    return p;
}

static void poison_free_fn(void *user, void *p)
{
    (void)user;
    free(p);
}

/* Regression: an allocation failure in afile_open removed whatever path the
 * uninitialised temporary-name buffer happened to hold. */
static void test_open_nomem_removes_nothing(void **state)
{
    fixture *f = *state;
    char *victim = path_in(f, "victim");
    FILE *fp = fopen(victim, "w");
    assert_non_null(fp);
    fclose(fp);
    poison_alloc pa = {victim, 0};
    splut_allocator al = {poison_alloc_fn, poison_free_fn, &pa};
    splut_ctx *ctx = NULL;
    assert_int_equal(splut_ctx_create(&al, &ctx), SPLUT_OK);
    pa.calls = 0;
    char *target = path_in(f, "target-with-a-long-enough-name.bin");
    splut_afile af;
    assert_int_equal(splut__afile_open(ctx, target, &af), SPLUT_E_NOMEM);
    struct stat sb;
    assert_int_equal(stat(victim, &sb), 0);
    splut_ctx_unref(ctx);
    splut__free(f->ctx, target);
    splut__free(f->ctx, victim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replace_and_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_keeps_old_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_refuses_special_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_nomem_removes_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
