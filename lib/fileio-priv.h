/*
 * The one file-I/O module of the library: every file the library writes
 * (models, checkpoints, tables, masks, HDL) goes through an atomic replace,
 * every file it reads through one regular-file reader.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SPARSELUT_FILEIO_PRIV_H
#define SPARSELUT_FILEIO_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core-priv.h"

/* Record "WHAT 'PATH': strerror(err)" as SPLUT_E_IO on ctx. */
splut_status splut__io_fail(const splut_ctx *ctx, const char *what, const char *path, int err);

/*
 * Atomic replace of one file. open creates a unique temporary next to the
 * target (O_EXCL, O_CLOEXEC, mode 0666 minus the umask); writes are buffered
 * and remember the first error; commit flushes, fsyncs, renames onto the
 * target and fsyncs the directory; abort (or a failed commit) removes the
 * temporary. Readers of the target see the old file or the whole new one, and
 * no temporary is left behind by a failure.
 */
typedef struct splut_afile {
    splut_ctx *ctx;
    FILE *fp;
    char *tmp;
    char *path;
    bool failed; /* a write failed; commit will refuse */
    int err;     /* errno of the failed write */
} splut_afile;

splut_status splut__afile_open(splut_ctx *ctx, const char *path, splut_afile *af);

/* Fault injection for white-box tests only (NULL otherwise): called at every
 * stage of an atomic replace ("open", "write", "sync", "rename", "dirsync");
 * a nonzero result makes that stage fail with EIO. A test may also end the
 * process from it to simulate a kill at that instant. */
extern int (*splut__fileio_fault)(const char *stage);
void splut__afile_write(splut_afile *af, const void *data, size_t len);
void splut__afile_printf(splut_afile *af, const char *fmt, ...) SPLUT_PRINTF(2, 3);
splut_status splut__afile_commit(splut_afile *af);
void splut__afile_abort(splut_afile *af);

/* Write @p size bytes to @p path atomically (splut__afile_*). */
splut_status splut__write_file_atomic(splut_ctx *ctx, const char *path, const void *data,
                                      size_t size);

/*
 * Read a whole regular file into memory from the context allocator (free with
 * splut__free), with a terminating NUL that @p size does not count. A FIFO,
 * device or directory is refused without blocking; a file above @p max_size
 * bytes is refused as SPLUT_E_FORMAT before anything is allocated.
 * Returns SPLUT_OK, SPLUT_E_IO, SPLUT_E_FORMAT or SPLUT_E_NOMEM.
 */
splut_status splut__read_file(splut_ctx *ctx, const char *path, uint64_t max_size,
                              uint8_t **data, size_t *size);

/* Create directory @p dir if it does not exist. */
splut_status splut__ensure_dir(const splut_ctx *ctx, const char *dir);
/* dir + "/" + name through the context allocator; NULL on failure. */
char *splut__path_join(splut_ctx *ctx, const char *dir, const char *name);

#endif /* SPARSELUT_FILEIO_PRIV_H */
