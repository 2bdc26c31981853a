/* Helper for signals.sh.
 *   sigbench handler READY OUT   install a SIGTERM handler, touch READY, wait; the handler writes
 *                                its CLOCK_REALTIME time (ns) to OUT and exits 0
 *   sigbench send PID            print CLOCK_REALTIME (ns), then kill(PID, SIGTERM) at once */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *out_path;

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void on_term(int sig) {
    (void)sig;
    char text[32];
    int n = snprintf(text, sizeof text, "%lld\n", now_ns());
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) { (void)!write(fd, text, (size_t)n); close(fd); }
    _exit(0);
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "handler") == 0) {
        out_path = argv[3];
        signal(SIGTERM, on_term);
        close(open(argv[2], O_WRONLY | O_CREAT, 0644));
        for (;;) pause();
    }
    if (argc == 3 && strcmp(argv[1], "send") == 0) {
        long long t = now_ns();
        if (kill(atoi(argv[2]), SIGTERM) != 0) { perror("kill"); return 1; }
        printf("%lld\n", t);
        return 0;
    }
    fprintf(stderr, "usage: sigbench handler READY OUT | sigbench send PID\n");
    return 2;
}
