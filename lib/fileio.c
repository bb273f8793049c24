/*
 * File I/O shared by every module: atomic replace and a non-blocking
 * regular-file reader (see fileio-priv.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <dirent.h>
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
        splut__afile_abort(af);
        return splut__io_fail(ctx, "cannot create a temporary file for", path, err);
    }
    af->created = true;
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
    af->created = false;
    return SPLUT_OK;
}

void splut__afile_abort(splut_afile *af)
{
    if (af->fp)
        fclose(af->fp);
    if (af->created)
        remove(af->tmp);
    splut__free(af->ctx, af->tmp);
    splut__free(af->ctx, af->path);
    af->fp = NULL;
    af->tmp = af->path = NULL;
    af->created = false;
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

/* ------------------------------------------------ directory staging and swap */

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return errno;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

splut_status splut__write_new_file(splut_ctx *ctx, const char *path, const void *data,
                                   size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0)
        return splut__io_fail(ctx, "cannot create", path, errno);
    int err = write_all(fd, data, size);
    if (!err && fsync(fd) != 0)
        err = errno;
    if (close(fd) != 0 && !err)
        err = errno;
    if (err) {
        (void)unlink(path);
        return splut__io_fail(ctx, "cannot write", path, err);
    }
    return SPLUT_OK;
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

static char *dup_string(splut_ctx *ctx, const char *s, size_t extra)
{
    size_t n = strlen(s);
    char *p = splut__alloc(ctx, n + extra + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

/* Whether the last component of @p path (n characters, no trailing '/') is
 * "." or "..": a directory that may be a process's working directory. */
static bool names_self(const char *path, size_t n)
{
    size_t k = n;
    while (k > 0 && path[k - 1] != '/')
        k--;
    return (n - k == 1 && path[k] == '.') || (n - k == 2 && path[k] == '.' && path[k + 1] == '.');
}

splut_status splut__dirstage_open(splut_ctx *ctx, const char *target, splut_dirstage *ds)
{
    memset(ds, 0, sizeof(*ds));
    ds->ctx = ctx;
    size_t n = strlen(target);
    while (n > 1 && target[n - 1] == '/') /* "out/" stages next to "out" */
        n--;
    /* "." or "..": the files are moved in one by one (a process may be in
     * that directory), so the staging directory may live inside it. */
    ds->in_place = names_self(target, n);
    ds->target = dup_string(ctx, target, 0);
    ds->tmp = splut__alloc(ctx, n + 48);
    if (!ds->target || !ds->tmp) {
        splut__dirstage_abort(ds);
        return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory staging '%s'", target);
    }
    ds->target[n] = '\0';
    for (unsigned k = 0; k < 1000; k++) {
        snprintf(ds->tmp, n + 48, ds->in_place ? "%s/.splut-stage.%ld.%u" : "%s.tmp.%ld.%u",
                 ds->target, (long)getpid(), k);
        if (mkdir(ds->tmp, 0777) == 0)
            return SPLUT_OK;
        if (errno != EEXIST) {
            int err = errno;
            splut__free(ctx, ds->tmp);
            ds->tmp = NULL; /* not ours: nothing to remove */
            splut__dirstage_abort(ds);
            return splut__io_fail(ctx, "cannot create a staging directory next to", target, err);
        }
    }
    splut__free(ctx, ds->tmp);
    ds->tmp = NULL;
    splut__dirstage_abort(ds);
    return splut__io_fail(ctx, "cannot create a staging directory next to", target, EEXIST);
}

static bool dot_or_dotdot(const char *name)
{
    return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/* A directory stream and its descriptor (for the *at calls, which need no
 * path buffers: cleaning up never allocates, so it cannot fail for lack of
 * memory). */
static DIR *open_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    DIR *d = fdopendir(fd);
    if (!d)
        close(fd);
    return d;
}

static bool exists_at(int dirfd_, const char *name, struct stat *sb)
{
    return fstatat(dirfd_, name, sb, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Remove every non-directory entry of @p dir and then @p dir (best effort). */
static void remove_flat_dir(const char *dir)
{
    DIR *d = open_dir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (!dot_or_dotdot(e->d_name))
                (void)unlinkat(dirfd(d), e->d_name, 0);
        closedir(d);
    }
    (void)rmdir(dir);
}

/* Copy regular file @p name from directory @p from to @p to (for file
 * systems without hard links). Returns 0 or an errno value. */
static int copy_file_at(int from, int to, const char *name)
{
    int in = openat(from, name, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return errno;
    struct stat sb;
    int out = fstat(in, &sb) == 0
                  ? openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, sb.st_mode & 07777)
                  : -1;
    int err = out < 0 ? errno : 0;
    char buf[65536];
    while (!err) {
        ssize_t k = read(in, buf, sizeof(buf));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            err = k < 0 ? errno : 0;
            break;
        }
        for (ssize_t w = 0; w < k && !err;) {
            ssize_t m = write(out, buf + w, (size_t)(k - w));
            if (m < 0 && errno != EINTR)
                err = errno;
            else if (m > 0)
                w += m;
        }
    }
    if (out >= 0 && close(out) != 0 && !err)
        err = errno;
    close(in);
    return err;
}

/* Carry entry @p name of the old directory into the staging directory:
 * a directory by rename, anything else as a hard link (a copy where the file
 * system has none). Returns 0 or an errno value. */
static int carry_entry(int from, int to, const char *name)
{
    struct stat sb;
    if (!exists_at(from, name, &sb))
        return errno;
    if (S_ISDIR(sb.st_mode))
        return renameat(from, name, to, name) == 0 ? 0 : errno;
    if (linkat(from, name, to, name, 0) == 0)
        return 0;
    int err = errno;
    if (S_ISREG(sb.st_mode) && (err == EPERM || err == EXDEV || err == EMLINK || err == ENOTSUP))
        return copy_file_at(from, to, name);
    return err;
}

/* Move the directories that were carried into @p from back into @p to. */
static void move_dirs_back(const char *from, const char *to)
{
    DIR *d = open_dir(from);
    int tfd = open(to, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct dirent *e;
    struct stat sb;
    while (d && tfd >= 0 && (e = readdir(d)) != NULL)
        if (!dot_or_dotdot(e->d_name) && exists_at(dirfd(d), e->d_name, &sb) &&
            S_ISDIR(sb.st_mode))
            (void)renameat(dirfd(d), e->d_name, tfd, e->d_name);
    if (tfd >= 0)
        close(tfd);
    if (d)
        closedir(d);
}

/* Every entry of the target that the new set neither replaces nor claims
 * goes into the staging directory. */
static splut_status carry_over(splut_dirstage *ds, splut_dirstage_drop drop, const void *user)
{
    DIR *d = open_dir(ds->target);
    if (!d)
        return splut__io_fail(ds->ctx, "cannot read directory", ds->target, errno);
    int tfd = open(ds->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (tfd < 0) {
        int err = errno;
        closedir(d);
        return splut__io_fail(ds->ctx, "cannot open directory", ds->tmp, err);
    }
    splut_status st = SPLUT_OK;
    struct dirent *e;
    struct stat sb;
    while (st == SPLUT_OK && (e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (dot_or_dotdot(name) || !exists_at(dirfd(d), name, &sb))
            continue;
        bool is_dir = S_ISDIR(sb.st_mode);
        if (exists_at(tfd, name, &sb)) {
            if (is_dir) /* a new file never replaces a directory (and what is in it) */
                st = splut__io_fail(ds->ctx, "cannot replace a directory by a file:", name,
                                    EISDIR);
            continue;
        }
        if (!is_dir && drop && drop(name, user))
            continue;
        int err = carry_entry(dirfd(d), tfd, name);
        if (err)
            st = splut__io_fail(ds->ctx, "cannot carry over into the new directory", name, err);
    }
    close(tfd);
    closedir(d);
    return st;
}

/* The target cannot be renamed (the current directory, a mount point, a
 * parent without write permission): move the staged files in one by one,
 * each atomically, then remove the old files that the new set claims. */
static splut_status move_files_in(splut_dirstage *ds, splut_dirstage_drop drop, const void *user)
{
    DIR *d = open_dir(ds->target);
    if (!d)
        return splut__io_fail(ds->ctx, "cannot read directory", ds->target, errno);
    DIR *n = open_dir(ds->tmp);
    if (!n) {
        int err = errno;
        closedir(d);
        return splut__io_fail(ds->ctx, "cannot read directory", ds->tmp, err);
    }
    struct dirent *e;
    struct stat sb;
    while (drop && (e = readdir(d)) != NULL)
        if (!dot_or_dotdot(e->d_name) && drop(e->d_name, user) &&
            !exists_at(dirfd(n), e->d_name, &sb) && exists_at(dirfd(d), e->d_name, &sb) &&
            !S_ISDIR(sb.st_mode))
            (void)unlinkat(dirfd(d), e->d_name, 0);
    splut_status st = SPLUT_OK;
    while (st == SPLUT_OK && (e = readdir(n)) != NULL)
        if (!dot_or_dotdot(e->d_name) && renameat(dirfd(n), e->d_name, dirfd(d), e->d_name) != 0)
            st = splut__io_fail(ds->ctx, "cannot move a file into", ds->target, errno);
    closedir(n);
    closedir(d);
    return st;
}

/* Swap the staging directory in for an existing target. */
static splut_status swap_in(splut_dirstage *ds, splut_dirstage_drop drop, const void *user,
                            const struct stat *old)
{
    splut_status st = carry_over(ds, drop, user);
    if (st != SPLUT_OK) {
        move_dirs_back(ds->tmp, ds->target);
        return st;
    }
    (void)chmod(ds->tmp, old->st_mode & 07777);
    char *aside = dup_string(ds->ctx, ds->tmp, 4);
    if (!aside) {
        move_dirs_back(ds->tmp, ds->target);
        return splut__fail(ds->ctx, SPLUT_E_NOMEM, "out of memory staging '%s'", ds->target);
    }
    strcat(aside, ".old");
    struct stat sb;
    int err = lstat(aside, &sb) == 0 ? EEXIST : 0;
    if (!err && rename(ds->target, aside) != 0)
        err = errno;
    if (err == EBUSY || err == EINVAL || err == EACCES || err == EPERM || err == EXDEV) {
        splut__free(ds->ctx, aside);
        move_dirs_back(ds->tmp, ds->target);
        return move_files_in(ds, drop, user);
    }
    if (!err && rename(ds->tmp, ds->target) != 0) {
        err = errno;
        (void)rename(aside, ds->target);
    }
    if (err) {
        move_dirs_back(ds->tmp, ds->target);
        st = splut__io_fail(ds->ctx, "cannot swap in the new contents of", ds->target, err);
    } else {
        remove_flat_dir(aside);
    }
    splut__free(ds->ctx, aside);
    return st;
}

splut_status splut__dirstage_commit(splut_dirstage *ds, splut_dirstage_drop drop,
                                    const void *user)
{
    struct stat lsb, sb;
    splut_status st = SPLUT_OK;
    sync_dir(ds->tmp); /* its files are synced as written (splut__write_new_file) */
    if (lstat(ds->target, &lsb) != 0 && errno == ENOENT) {
        if (rename(ds->tmp, ds->target) != 0)
            st = splut__io_fail(ds->ctx, "cannot rename the staging directory onto", ds->target,
                                errno);
    } else if (stat(ds->target, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        st = splut__fail(ds->ctx, SPLUT_E_IO, "'%s' exists and is not a directory", ds->target);
    } else if (S_ISLNK(lsb.st_mode) || ds->in_place) {
        /* A link to a directory stays a link: fill the directory it names. */
        st = move_files_in(ds, drop, user);
    } else {
        st = swap_in(ds, drop, user, &sb);
    }
    if (st == SPLUT_OK) {
        char *scratch = dup_string(ds->ctx, ds->target, 2);
        if (scratch) {
            sync_parent_dir(ds->target, scratch);
            splut__free(ds->ctx, scratch);
        }
    }
    splut__dirstage_abort(ds);
    return st;
}

void splut__dirstage_abort(splut_dirstage *ds)
{
    if (ds->tmp)
        remove_flat_dir(ds->tmp); /* gone already after a successful swap */
    splut__free(ds->ctx, ds->tmp);
    splut__free(ds->ctx, ds->target);
    ds->tmp = ds->target = NULL;
}
