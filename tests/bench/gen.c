/* Bench load generator and line-latency reader (tests/bench/run.sh compiles it with gcc).
 *   gen blocks N      N bytes to stdout with write(2), 64 KiB at a time
 *   gen lines N       N bytes as 100-byte lines through stdio; stdout's buffering is left to
 *                     the C library, so `stdbuf -oL` makes it one write per line (as in a job)
 *   gen lines-lb N    the same, line-buffered by the program itself (setvbuf _IOLBF)
 *   gen tick COUNT    COUNT lines "tick SEQ MONOTONIC_NS", one every 10 ms, each flushed
 *   gen latency       reads stdin; for each "tick" line, the delay from its timestamp to its
 *                     arrival here; prints "lines=C p50_ms=.. p99_ms=.. max_ms=.." at EOF
 * N takes a K/M/G suffix (powers of 1024). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long parse_size(const char *s) {
    char *end;
    long long n = strtoll(s, &end, 10);
    switch (*end) {
    case 'K': n <<= 10; break;
    case 'M': n <<= 20; break;
    case 'G': n <<= 30; break;
    case 0: break;
    default: fprintf(stderr, "gen: bad size '%s'\n", s); exit(2);
    }
    return n;
}

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int blocks(long long total) {
    static char block[64 << 10];
    memset(block, 'b', sizeof block);
    while (total > 0) {
        size_t want = total < (long long)sizeof block ? (size_t)total : sizeof block;
        ssize_t n = write(1, block, want);
        if (n < 0) { if (errno == EINTR) continue; perror("gen: write"); return 1; }
        total -= n;
    }
    return 0;
}

static int lines(long long total, int line_buffered) {
    if (line_buffered) setvbuf(stdout, NULL, _IOLBF, 1 << 16);
    char line[100];
    memset(line, 'l', sizeof line);
    line[sizeof line - 1] = '\n';
    for (; total >= (long long)sizeof line; total -= sizeof line)
        if (fwrite(line, 1, sizeof line, stdout) != sizeof line) { perror("gen: write"); return 1; }
    if (total > 0) fwrite(line + sizeof line - total, 1, (size_t)total, stdout);
    return fflush(stdout) == 0 ? 0 : 1;
}

static int tick(long count) {
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (long i = 0; i < count; i++) {
        next.tv_nsec += 10 * 1000000L;
        if (next.tv_nsec >= 1000000000L) { next.tv_nsec -= 1000000000L; next.tv_sec++; }
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {}
        char text[64];
        int len = snprintf(text, sizeof text, "tick %ld %lld\n", i, now_ns());
        if (write(1, text, (size_t)len) != len) { perror("gen: write"); return 1; }
    }
    return 0;
}

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static int latency(void) {
    static char buf[1 << 16];
    size_t have = 0, count = 0, cap = 1024;
    long long *delays = malloc(cap * sizeof *delays);
    for (;;) {
        ssize_t n = read(0, buf + have, sizeof buf - have);
        if (n < 0) { if (errno == EINTR) continue; perror("gen: read"); return 1; }
        if (n == 0) break;
        long long arrived = now_ns();
        have += (size_t)n;
        char *start = buf, *nl;
        while ((nl = memchr(start, '\n', have - (size_t)(start - buf))) != NULL) {
            long seq; long long sent;
            *nl = 0;
            if (sscanf(start, "tick %ld %lld", &seq, &sent) == 2) {
                if (count == cap) delays = realloc(delays, (cap *= 2) * sizeof *delays);
                delays[count++] = arrived - sent;
            }
            start = nl + 1;
        }
        have -= (size_t)(start - buf);
        memmove(buf, start, have);
        if (have == sizeof buf) have = 0; /* a giant non-tick line: drop it */
    }
    if (count == 0) { printf("lines=0\n"); return 1; }
    qsort(delays, count, sizeof *delays, cmp_ll);
    printf("lines=%zu p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", count,
           delays[count / 2] / 1e6, delays[(count * 99) / 100] / 1e6, delays[count - 1] / 1e6);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "blocks") == 0) return blocks(parse_size(argv[2]));
    if (argc == 3 && strcmp(argv[1], "lines") == 0) return lines(parse_size(argv[2]), 0);
    if (argc == 3 && strcmp(argv[1], "lines-lb") == 0) return lines(parse_size(argv[2]), 1);
    if (argc == 3 && strcmp(argv[1], "tick") == 0) return tick(atol(argv[2]));
    if (argc == 2 && strcmp(argv[1], "latency") == 0) return latency();
    fprintf(stderr, "usage: gen blocks|lines|lines-lb N | gen tick COUNT | gen latency\n");
    return 2;
}
