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
    bool created; /* tmp names a file of ours: abort removes it */
    bool failed;  /* a write failed; commit will refuse */
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

/*
 * Atomic replace of a set of files in one directory (HDL emission). open
 * creates a fresh, uniquely named staging directory next to the target
 * (`<target>.tmp.<pid>.<k>`); the caller writes every new file into
 * `ds.tmp` (splut__write_new_file: nobody reads the staging directory, so its
 * files need no temporary of their own). commit carries over every entry of
 * the existing target that the staging directory does not have and that
 * @p drop does not claim (regular files and symbolic links as hard links,
 * directories by rename — always: @p drop applies to files only, and a new
 * file never replaces a directory), then
 * swaps: the target is renamed aside, the staging directory renamed onto it,
 * the old directory removed. Readers see the old set of files or the whole new
 * one (apart from the instant between the two renames, when the target is
 * missing; a failed second rename moves the old directory back). Where the
 * target cannot be renamed (the current directory, a mount point, an
 * unwritable parent), is "." or ".." (staged inside it, in
 * `.splut-stage.<pid>.<k>`) or is a symbolic link to a directory, the staged
 * files are moved in one by one instead, each atomically. abort (or a
 * failed commit) removes the staging directory and leaves the target as it was.
 */
typedef struct splut_dirstage {
    splut_ctx *ctx;
    char *target;
    char *tmp;
    bool in_place; /* "." or "..": never renamed (a process may be in it) */
} splut_dirstage;

/* Whether an entry of the old directory belongs to the new set (and is not
 * carried over although the new set does not contain it). */
typedef bool (*splut_dirstage_drop)(const char *name, const void *user);

/* Create @p path (which must not exist: a file of a fresh staging
 * directory), write @p size bytes and fsync it; on failure it is removed. */
splut_status splut__write_new_file(splut_ctx *ctx, const char *path, const void *data,
                                   size_t size);

splut_status splut__dirstage_open(splut_ctx *ctx, const char *target, splut_dirstage *ds);
splut_status splut__dirstage_commit(splut_dirstage *ds, splut_dirstage_drop drop,
                                    const void *user);
void splut__dirstage_abort(splut_dirstage *ds);

#endif /* SPARSELUT_FILEIO_PRIV_H */
