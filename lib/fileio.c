/*
 * File I/O shared by every module: atomic replace and a non-blocking
 * regular-file reader (see fileio-priv.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio-priv.h"

splut_status splut__io_fail(const splut_ctx *ctx, const char *what, const char *path, int err)
{
    char reason[128];
    if (strerror_r(err, reason, sizeof(reason)) != 0)
        snprintf(reason, sizeof(reason), "error %d", err);
    return splut__fail(ctx, SPLUT_E_IO, "%s '%s': %s", what, path, reason);
}

char *splut__path_join(splut_ctx *ctx, const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = splut__alloc(ctx, a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

splut_status splut__ensure_dir(const splut_ctx *ctx, const char *dir)
{
    struct stat sb;
    if (mkdir(dir, 0777) == 0)
        return SPLUT_OK;
    int err = errno;
    if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
        return SPLUT_OK;
    return splut__io_fail(ctx, "cannot create directory", dir, err);
}

/* ---------------------------------------------------------- atomic replace */

int (*splut__fileio_fault)(const char *stage);

/* The test hook's verdict on @p stage; a failure looks like EIO. */
static bool injected(const char *stage)
{
    if (splut__fileio_fault && splut__fileio_fault(stage)) {
        errno = EIO;
        return true;
    }
    return false;
}

/* A fresh temporary next to `path`, with the usual permissions (0666 minus
 * the umask; mkstemp would give 0600). O_EXCL makes the name ours. */
static int open_temp(char *tmp, const char *path, size_t cap)
{
    for (unsigned k = 0; k < 1000; k++) {
        snprintf(tmp, cap, "%s.tmp.%ld.%u", path, (long)getpid(), k);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || (errno != EEXIST && errno != EINTR))
            return fd;
    }
    errno = EEXIST;
    return -1;
}

/* Make the rename durable; best effort, the data itself is already synced. */
static void sync_parent_dir(const char *path, char *scratch)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        strcpy(scratch, ".");
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        memcpy(scratch, path, n);
        scratch[n] = '\0';
    }
    int fd = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

splut_status splut__afile_open(splut_ctx *ctx, const char *path, splut_afile *af)
{
    memset(af, 0, sizeof(*af));
    af->ctx = ctx;
    size_t n = strlen(path), cap = n + 48;
    af->tmp = splut__alloc(ctx, cap);
    af->path = splut__alloc(ctx, n + 1);
    if (!af->tmp || !af->path) {
        splut__afile_abort(af);
        return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory opening '%s'", path);
    }
    memcpy(af->path, path, n + 1);
    int fd = injected("open") ? -1 : open_temp(af->tmp, path, cap);
    if (fd < 0) {
        int err = errno;
        splut__free(ctx, af->tmp);
        af->tmp = NULL;
        splut__afile_abort(af);
        return splut__io_fail(ctx, "cannot create a temporary file for", path, err);
    }
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        int err = errno;
        close(fd);
        splut__afile_abort(af);
        return splut__io_fail(ctx, "cannot open", path, err);
    }
    return SPLUT_OK;
}

void splut__afile_write(splut_afile *af, const void *data, size_t len)
{
    if (!af->failed && len && (injected("write") || fwrite(data, 1, len, af->fp) != len)) {
        af->failed = true;
        af->err = errno;
    }
}

void splut__afile_printf(splut_afile *af, const char *fmt, ...)
{
    if (af->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (vfprintf(af->fp, fmt, ap) < 0) {
        af->failed = true;
        af->err = errno;
    }
    va_end(ap);
}

splut_status splut__afile_commit(splut_afile *af)
{
    const char *what = NULL;
    int err = 0;
    if (af->failed) {
        what = "cannot write";
        err = af->err;
    } else if (fflush(af->fp) != 0 || injected("sync") || fsync(fileno(af->fp)) != 0) {
        what = "cannot write";
        err = errno;
    }
    if (fclose(af->fp) != 0 && !what) {
        what = "cannot close";
        err = errno;
    }
    af->fp = NULL;
    if (!what && (injected("rename") || rename(af->tmp, af->path) != 0)) {
        what = "cannot rename the temporary file onto";
        err = errno;
    }
    if (what) {
        splut_status st = splut__io_fail(af->ctx, what, af->path, err);
        splut__afile_abort(af);
        return st;
    }
    if (!injected("dirsync")) /* best effort: the rename has happened either way */
        sync_parent_dir(af->path, af->tmp); /* tmp is at least as long as the directory */
    splut__free(af->ctx, af->tmp);
    splut__free(af->ctx, af->path);
    af->tmp = af->path = NULL;
    return SPLUT_OK;
}

void splut__afile_abort(splut_afile *af)
{
    if (af->fp)
        fclose(af->fp);
    if (af->tmp)
        remove(af->tmp);
    splut__free(af->ctx, af->tmp);
    splut__free(af->ctx, af->path);
    af->fp = NULL;
    af->tmp = af->path = NULL;
}

splut_status splut__write_file_atomic(splut_ctx *ctx, const char *path, const void *data,
                                      size_t size)
{
    splut_afile af;
    splut_status st = splut__afile_open(ctx, path, &af);
    if (st != SPLUT_OK)
        return st;
    splut__afile_write(&af, data, size);
    return splut__afile_commit(&af);
}

/* ------------------------------------------------------------------ reading */

/* Open for reading without blocking on a FIFO, and keep only regular files. */
static splut_status open_regular(const splut_ctx *ctx, const char *path, int *fd_out,
                                 uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return splut__io_fail(ctx, "cannot open", path, errno);
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int err = errno;
        close(fd);
        return splut__io_fail(ctx, "cannot stat", path, err);
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return splut__fail(ctx, SPLUT_E_IO, "'%s' is %s, not a regular file", path,
                           S_ISDIR(sb.st_mode) ? "a directory" : "a FIFO, socket or device");
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    *fd_out = fd;
    *size = (uint64_t)sb.st_size;
    return SPLUT_OK;
}

static bool read_all(int fd, uint8_t *p, size_t n, int *err)
{
    while (n) {
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            *err = k < 0 ? errno : EIO; /* EIO: the file shrank while read */
            return false;
        }
        p += k;
        n -= (size_t)k;
    }
    return true;
}

splut_status splut__read_file(splut_ctx *ctx, const char *path, uint64_t max_size,
                              uint8_t **data, size_t *size)
{
    int fd = -1;
    uint64_t n64 = 0;
    splut_status st = open_regular(ctx, path, &fd, &n64);
    if (st != SPLUT_OK)
        return st;
    if (n64 > max_size || n64 >= SIZE_MAX) {
        close(fd);
        return splut__fail(ctx, SPLUT_E_FORMAT, "'%s' has %llu bytes, above the limit of %llu",
                           path, (unsigned long long)n64, (unsigned long long)max_size);
    }
    size_t n = (size_t)n64;
    uint8_t *buf = splut__alloc(ctx, n + 1);
    if (!buf) {
        close(fd);
        return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory reading '%s' (%zu bytes)", path, n);
    }
    int err = 0;
    bool ok = read_all(fd, buf, n, &err);
    close(fd);
    if (!ok) {
        splut__free(ctx, buf);
        return splut__io_fail(ctx, "cannot read", path, err);
    }
    buf[n] = '\0';
    *data = buf;
    *size = n;
    return SPLUT_OK;
}
