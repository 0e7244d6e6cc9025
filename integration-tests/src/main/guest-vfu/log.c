/*
 * The guest programs' console lines: note() says what happened, fail() says what went wrong and also appends it
 * to R.error, the result record's error field. Each program names itself in LOG_PREFIX (its main.c).
 */
#define _GNU_SOURCE
#include "vfu_guest.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void note(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%s: ", LOG_PREFIX);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
}

void fail(const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    printf("%s: FAIL %s\n", LOG_PREFIX, msg);
    fflush(stdout);
    /* Rule: every failure is kept, "; "-separated, as far as the record holds (truncated, never overrun). */
    size_t used = strlen(R.error);
    if (used + 3 < sizeof R.error) snprintf(R.error + used, sizeof R.error - used, "%s%s", used ? "; " : "", msg);
}
