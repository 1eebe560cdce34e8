/* fuzz_report_line.c -- libFuzzer target for the report's JSON-lines reader
 * (report_format.c), which reads STATE/report.jsonl back at start: a file
 * that may have been truncated, edited or filled by another program.
 *
 * Any input must be either refused or parsed into an outcome whose strings
 * are NUL-terminated within their fields; a parsed outcome, written again
 * with report_outcome_json, must parse back to the same outcome (the writer
 * and the reader agree). See README.md to build it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "report_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    if (!line)
        return 0;
    memcpy(line, data, size);
    line[size] = '\0';
    report_outcome o, again;
    if (report_outcome_parse(line, &o) == 0) {
        if (memchr(o.remote, '\0', sizeof o.remote) == NULL ||
            memchr(o.close, '\0', sizeof o.close) == NULL)
            abort();
        rs_json j;
        json_init(&j);
        report_outcome_json(&j, &o);
        if (j.failed || report_outcome_parse(j.text, &again) != 0 ||
            memcmp(&o, &again, sizeof o) != 0)
            abort();
        json_free(&j);
    }
    free(line);
    return 0;
}
