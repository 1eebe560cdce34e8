/* atomic_file.c -- temporary file, fsync, rename (see atomic_file.h). */
#include "atomic_file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int atomic_file_open(rs_atomic_file *a, const char *path, mode_t mode)
{
    a->f = NULL;
    if (snprintf(a->path, sizeof a->path, "%s", path) >= (int)sizeof a->path ||
        snprintf(a->tmp, sizeof a->tmp, "%s.tmp-XXXXXX", path) >= (int)sizeof a->tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = mkstemp(a->tmp);
    if (fd < 0)
        return -1;
    if (fchmod(fd, mode) != 0 || !(a->f = fdopen(fd, "w"))) {
        int saved = errno;
        close(fd);
        unlink(a->tmp);
        errno = saved;
        return -1;
    }
    return 0;
}

int atomic_file_commit(rs_atomic_file *a)
{
    bool ok = fflush(a->f) == 0 && fsync(fileno(a->f)) == 0;
    int saved = errno;
    if (fclose(a->f) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    a->f = NULL;
    if (ok && rename(a->tmp, a->path) != 0) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        unlink(a->tmp);
        errno = saved;
        return -1;
    }
    return 0;
}

void atomic_file_abort(rs_atomic_file *a)
{
    if (a->f)
        fclose(a->f);
    a->f = NULL;
    unlink(a->tmp);
}
