/*
 * What the native binary does before the .NET runtime starts (a constructor runs before main,
 * and NativeAOT starts its runtime in main):
 *
 * 1. The exec trampoline (ExecTrampoline.cs). Every child of the launcher starts as
 *    `/proc/self/exe --exec-child ...`; starting the runtime only to make six system calls and
 *    exec cost ~1,200 page faults and ~6 ms of CPU per child (issue 13). Here it does the same
 *    steps in the same order as ExecTrampoline.Run (which still serves JIT builds) and never
 *    returns when the exec succeeds.
 * 2. Otherwise the launcher's signals (SignalHub.Owned) are blocked while there is one thread:
 *    every thread the runtime starts (the finalizer's too) inherits the mask, so SignalHub needs
 *    no forced GC to reach the finalizer thread, and a SIGTERM that comes during start-up waits
 *    in the signalfd instead of ending the launcher.
 *
 * glibc passes argc, argv and envp to the main program's constructors (a GNU extension).
 * Linked into the NativeAOT binary through <NativeLibrary> (TrainLauncher.csproj).
 *
 * argv: SELF --exec-child FLAGS ERROR-FD PARENT-PID CORE-LIMIT PATH ARGV0 [ARGS...]
 *   FLAGS: "t" take the terminal, "p" PR_SET_PDEATHSIG, "-" neither; "-" for an unused value.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

static int unused(const char *value) { return strcmp(value, "-") == 0; }

static void write_all(int fd, const void *data, size_t length)
{
    const char *p = data;
    while (length > 0) {
        ssize_t n = write(fd, p, length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        p += n;
        length -= (size_t)n;
    }
}

/* SignalHub.Owned: 1-31 but KILL, STOP, CHLD, SEGV and FPE (the last two are the runtime's). */
static void block_owned_signals(void)
{
    sigset_t owned;
    sigemptyset(&owned);
    for (int signal_number = 1; signal_number <= 31; signal_number++)
        if (signal_number != SIGKILL && signal_number != SIGSTOP && signal_number != SIGCHLD &&
            signal_number != SIGSEGV && signal_number != SIGFPE)
            sigaddset(&owned, signal_number);
    sigprocmask(SIG_BLOCK, &owned, NULL);
}

static void exec_child(char **argv, char **envp);

__attribute__((constructor)) static void trainlauncher_before_runtime(int argc, char **argv, char **envp)
{
    if (argc >= 8 && strcmp(argv[1], "--exec-child") == 0) exec_child(argv, envp); /* never returns */
    block_owned_signals();
}

static void exec_child(char **argv, char **envp)
{
    const char *flags = argv[2], *error_fd = argv[3], *parent = argv[4], *core = argv[5];
    const char *path = argv[6];
    char **child_argv = argv + 7;

    if (strchr(flags, 't')) {
        /* Asked from the background, tcsetpgrp would stop us with SIGTTOU. */
        sigset_t ttou;
        sigemptyset(&ttou);
        sigaddset(&ttou, SIGTTOU);
        sigprocmask(SIG_BLOCK, &ttou, NULL);
        tcsetpgrp(0, getpgrp());
    }
    if (strchr(flags, 'p')) {
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (getppid() != (pid_t)strtol(parent, NULL, 10)) _exit(128 + SIGKILL); /* the launcher is already gone */
    }
    if (!unused(core)) {
        char *end;
        errno = 0;
        unsigned long long soft = strtoull(core, &end, 10);
        struct rlimit limit;
        if (errno == 0 && *end == '\0' && getrlimit(RLIMIT_CORE, &limit) == 0) {
            limit.rlim_cur = soft < limit.rlim_max ? soft : limit.rlim_max;
            setrlimit(RLIMIT_CORE, &limit);
        }
    }
    int fd = unused(error_fd) ? -1 : atoi(error_fd);
    if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
    /* The launcher blocks and ignores some signals; both would survive exec. */
    for (int signal_number = 1; signal_number <= 31; signal_number++)
        if (signal_number != SIGKILL && signal_number != SIGSTOP) signal(signal_number, SIG_DFL);
    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, NULL);

    execve(path, child_argv, envp);
    int error = errno;
    if (error == ENOEXEC) {
        /* A script without "#!": /bin/sh runs it, as shells and execvp do. */
        int count = 0;
        while (child_argv[count]) count++;
        char **shell_argv = calloc((size_t)count + 2, sizeof(char *));
        if (shell_argv) {
            shell_argv[0] = "/bin/sh";
            shell_argv[1] = (char *)path;
            for (int i = 1; i < count; i++) shell_argv[i + 1] = child_argv[i];
            execve("/bin/sh", shell_argv, envp);
            if (errno != ENOENT) error = errno;
        }
    }
    if (fd >= 0) {
        write_all(fd, &error, sizeof error);
    } else {
        const char *head = "[trainlauncher] error: cannot start ", *reason = strerror(error);
        write_all(2, head, strlen(head));
        write_all(2, path, strlen(path));
        write_all(2, ": ", 2);
        write_all(2, reason, strlen(reason));
        write_all(2, "\n", 1);
    }
    _exit(error == ENOENT ? 127 : 126);
}
