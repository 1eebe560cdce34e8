/* log.h -- one line per event on stderr: "TIME LEVEL message". Bytes that
 * came from the network are sanitised (control characters become '?') so a
 * peer cannot forge log lines. */
#ifndef RS_LOG_H
#define RS_LOG_H

typedef enum {
    RS_LOG_DEBUG, /* protocol details, off by default */
    RS_LOG_INFO,  /* one line per event */
    RS_LOG_WARN,  /* something a peer or the config did wrong */
    RS_LOG_ERROR  /* something we could not do */
} rs_log_level;

/* Lines below level are not printed (default RS_LOG_INFO). */
void rs_log_set_level(rs_log_level level);

/* true when level would be printed. */
int rs_log_enabled(rs_log_level level);

void rs_log(rs_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
