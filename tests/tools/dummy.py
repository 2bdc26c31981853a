#!/usr/bin/env python3
"""Dummy command for the tests (CliWrap.Tests.Dummy's idea): small, predictable behaviours.

  dummy.py exit N                       exit with status N
  dummy.py kill SIG                     kill itself with signal SIG
  dummy.py cat FILE                     write FILE's bytes to stdout unchanged
  dummy.py interleave MB EXPECT         MB MiB in mixed-size writes alternating stdout/stderr;
                                        writes sha256 and length of all it wrote to EXPECT
  dummy.py env                          print the environment, NAME=VALUE per line, sorted
  dummy.py trap READY [EXIT]            handle TERM/INT/HUP/QUIT/USR1/USR2: print 'got SIGNAME'; on a
                                        stop signal exit EXIT (default: die by that signal); touches
                                        READY once the handlers are set, then waits
  dummy.py stubborn READY               ignore SIGTERM and SIGINT, touch READY, wait forever
  dummy.py pieces DELAY PART...         write each PART (no newline added, \\n escapes) after DELAY s
  dummy.py waitfile FILE                wait until FILE exists
  dummy.py midline READY                write "partial" with no newline, touch READY; on SIGTERM
                                        finish the line with " rest\n" and exit 0
  dummy.py family READY                 as trap, and a grandchild in the same process group that
                                        prints 'grandchild got SIGNAME' (and exits on a stop signal)
  dummy.py orphans N                    make N orphans that exit (double fork), then print
                                        'zombies parent=P all=A': zombies whose parent is ours, and in
                                        all of /proc, once both are 0 or after 10 s
  dummy.py daemon PIDFILE               start a double-forked setsid daemon that writes its pid to
                                        PIDFILE and sleeps; exit 0 once the file is there
  dummy.py record LOG READY FINISH N    handle every catchable signal but CHLD: append 'got SIGNAME' to
                                        LOG; touch READY, exit N once FINISH exists
  dummy.py checkpoint READY LOG S       on SIGTERM (each one logged as 'got SIGTERM' to LOG) write a
                                        checkpoint for S seconds, then 'checkpoint written' to LOG, exit 0
  dummy.py pid PIDFILE                  write its pid to PIDFILE (atomically), then wait (signals: default)
  dummy.py flood PIDFILE                ignore SIGTERM, write its pid to PIDFILE, write to stdout forever
  dummy.py tty                          print whether its group owns the terminal ('foreground yes|no'),
                                        then read a line from it and print 'read: LINE'
"""
import hashlib, os, signal, sys, time

def wait_forever():
    while True:
        time.sleep(3600)

def main(argv):
    cmd = argv[1]
    if cmd == "exit":
        sys.exit(int(argv[2]))
    if cmd == "kill":
        os.kill(os.getpid(), getattr(signal, argv[2]))
        wait_forever()
    if cmd == "cat":
        with open(argv[2], "rb") as f:
            while True:
                block = f.read(1 << 20)
                if not block:
                    break
                os.write(1, block) if len(block) < 65536 else write_all(1, block)
        return
    if cmd == "interleave":
        total = int(argv[2]) << 20
        digest = hashlib.sha256()
        sizes = [1, 7, 100, 4096, 65536, 3, 200000, 12]
        written, i = 0, 0
        while written < total:
            size = min(sizes[i % len(sizes)], total - written)
            fd = 1 if i % 2 == 0 else 2
            block = bytes((written + k) % 251 for k in range(size)) if size < 4096 else \
                (b"%08d" % i) * (size // 8) + b"x" * (size % 8)
            write_all(fd, block)
            digest.update(block)
            written += size
            i += 1
        with open(argv[3], "w") as f:
            f.write(f"{digest.hexdigest()} {written}\n")
        return
    if cmd == "env":
        for k in sorted(os.environ):
            print(f"{k}={os.environ[k]}")
        return
    if cmd == "trap":
        trap_signals("got", int(argv[3]) if len(argv) > 3 else None)
        open(argv[2], "w").close()
        wait_forever()
    if cmd == "family":
        ready = argv[2]
        if os.fork() == 0:
            trap_signals("grandchild got", None)
            open(ready + ".grandchild", "w").close()
            wait_forever()
        trap_signals("got", None)
        while not os.path.exists(ready + ".grandchild"):
            time.sleep(0.01)
        open(ready, "w").close()
        wait_forever()
    if cmd == "orphans":
        for _ in range(int(argv[2])):
            child = os.fork()
            if child == 0:
                if os.fork() == 0:
                    time.sleep(0.05)  # outlives its parent, so it exits as an orphan
                os._exit(0)
            os.waitpid(child, 0)
        deadline = time.time() + 10
        while True:
            mine, every = count_zombies(os.getppid())
            if (mine == 0 and every == 0) or time.time() > deadline:
                break
            time.sleep(0.05)
        print(f"zombies parent={mine} all={every}", flush=True)
        return
    if cmd == "daemon":
        pidfile = argv[2]
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                null = os.open("/dev/null", os.O_RDWR)  # a daemon lets go of the job's output
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                with open(pidfile + ".tmp", "w") as f:
                    f.write(str(os.getpid()))
                os.rename(pidfile + ".tmp", pidfile)
                wait_forever()
            os._exit(0)
        while not os.path.exists(pidfile):
            time.sleep(0.01)
        return
    if cmd == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        open(argv[2], "w").close()
        wait_forever()
    if cmd == "pieces":
        delay = float(argv[2])
        for part in argv[3:]:
            time.sleep(delay)
            os.write(1, part.encode().decode("unicode_escape").encode("latin-1"))
        return
    if cmd == "midline":
        def finish(signum, frame):
            os.write(1, b" rest\n")
            os._exit(0)
        signal.signal(signal.SIGTERM, finish)
        os.write(1, b"partial")
        open(argv[2], "w").close()
        wait_forever()
    if cmd == "record":
        log, ready, finish, status = argv[2], argv[3], argv[4], int(argv[5])
        def record(signum, frame):
            with open(log, "a") as f:
                f.write(f"got {signal.Signals(signum).name}\n")
        for number in range(1, 32):
            if number not in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD):
                signal.signal(number, record)
        open(ready, "w").close()
        while not os.path.exists(finish):
            time.sleep(0.02)
        sys.exit(status)
    if cmd == "checkpoint":
        ready, log, seconds = argv[2], argv[3], float(argv[4])
        stopping = []
        def on_term(signum, frame):
            with open(log, "a") as f:
                f.write("got SIGTERM\n")
            stopping.append(signum)
        signal.signal(signal.SIGTERM, on_term)
        open(ready, "w").close()
        while not stopping:
            time.sleep(0.02)
        deadline = time.time() + seconds  # the checkpoint: time it needs, whatever signals come
        while time.time() < deadline:
            time.sleep(0.05)
        with open(log, "a") as f:
            f.write("checkpoint written\n")
        return
    if cmd == "pid":
        write_pid(argv[2])
        wait_forever()
    if cmd == "flood":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        write_pid(argv[2])
        block = b"x" * 65535 + b"\n"
        while True:
            write_all(1, block)
    if cmd == "tty":
        print("foreground", "yes" if os.tcgetpgrp(0) == os.getpgrp() else "no", flush=True)
        print("read:", input(), flush=True)
        return
    if cmd == "waitfile":
        while not os.path.exists(argv[2]):
            time.sleep(0.02)
        return
    sys.exit(f"dummy.py: unknown subcommand {cmd}")

def trap_signals(prefix, stop_exit):
    def handler(signum, frame):
        os.write(1, f"{prefix} {signal.Signals(signum).name}\n".encode())
        if signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
            if stop_exit is not None:
                os._exit(stop_exit)
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(s, handler)

def write_pid(path):
    with open(path + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(path + ".tmp", path)

def count_zombies(parent):
    """(zombies whose parent is PARENT, zombies in all of /proc)."""
    mine = every = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z":
            every += 1
            mine += int(fields[1]) == parent
    return mine, every

def write_all(fd, data):
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]

if __name__ == "__main__":
    main(sys.argv)
