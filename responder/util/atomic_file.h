/* atomic_file.h -- writing a file so that a reader sees the old content or
 * the new, never half of it, and an interrupted run leaves the old file:
 * the text goes to a temporary file next to the target, is synced, and is
 * renamed over it. Used for keys, certificates and zone files. */
#ifndef RS_ATOMIC_FILE_H
#define RS_ATOMIC_FILE_H

#include <stdio.h>
#include <sys/types.h>

/* One file being written. */
typedef struct rs_atomic_file {
    FILE *f;         /* write the content here */
    char tmp[4096];  /* the temporary file's path */
    char path[4096]; /* the target */
} rs_atomic_file;

/* Start writing path with permissions mode. 0, or -1 with errno set
 * (ENAMETOOLONG for a path too long). */
int atomic_file_open(rs_atomic_file *a, const char *path, mode_t mode);

/* Flush, sync and rename over the target. 0, or -1 with errno set and the
 * temporary file removed. Either way a->f is closed. */
int atomic_file_commit(rs_atomic_file *a);

/* Give up: close and remove the temporary file; the target is untouched. */
void atomic_file_abort(rs_atomic_file *a);

#endif
