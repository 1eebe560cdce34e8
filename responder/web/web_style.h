/* web_style.h -- the one stylesheet of the web report, embedded in the
 * binary and served at /style.css (the pages link it; the CSP allows styles
 * from 'self' only, so no page carries inline style). No JavaScript. */
#ifndef RS_WEB_STYLE_H
#define RS_WEB_STYLE_H

#include <stddef.h>
#include <stdint.h>

/* The stylesheet's text and length. */
const char *web_style_css(size_t *len);

/* A strong ETag of the stylesheet ("\"css-0123456789abcdef\""), so a browser
 * revalidates with If-None-Match after max-age. */
const char *web_style_etag(void);

/* A 64-bit FNV-1a hash of n bytes (ETags of generated bodies). */
uint64_t web_style_hash(const void *data, size_t n);

#endif
