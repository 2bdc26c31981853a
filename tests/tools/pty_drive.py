#!/usr/bin/env python3
"""Runs a program on a new pseudo-terminal and acts as a person at that terminal would (the idea
of dumb-init's tests/tty_test.py). Prints one JSON object: {"status", "output", "events"}.

  pty_drive.py input -- PROGRAM ARG...     wait for 'foreground ' in the output, then type 'hello'
  pty_drive.py suspend -- PROGRAM ARG...   as input, but first press Ctrl-Z, wait until PROGRAM (the
                                           launcher) is stopped, send it SIGCONT and wait until its
                                           child (the command) has the terminal again

PROGRAM is the session leader with the terminal as its controlling terminal, in the foreground.
A wait that takes 30 s is given up: PROGRAM is killed and the event says 'timeout: WHAT'.
"""
import json, os, pty, select, signal, sys, termios, time

class Timeout(Exception):
    pass

def main(argv):
    scenario, program = argv[1], argv[argv.index("--") + 1:]
    pid, master = pty.fork()
    if pid == 0:
        os.execvp(program[0], program)
    attrs = termios.tcgetattr(master)
    attrs[1] &= ~termios.OPOST  # keep "\n" as it is
    attrs[3] &= ~termios.ECHO   # what we type is not output
    termios.tcsetattr(master, termios.TCSANOW, attrs)
    output, events, eof = bytearray(), [], [False]

    def pump(timeout):
        if eof[0] or not select.select([master], [], [], timeout)[0]:
            return
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every slave end is closed
            chunk = b""
        if chunk:
            output.extend(chunk)
        else:
            eof[0] = True

    def wait_for(condition, what):
        deadline = time.time() + 30
        while not condition():
            if time.time() > deadline:
                raise Timeout(what)
            pump(0.02)

    try:
        wait_for(lambda: b"foreground " in output, "the command's first line")
        if scenario == "suspend":
            command = next(c for c in children(pid) if b"dummy.py" in read(f"/proc/{c}/cmdline"))
            os.write(master, b"\x1a")  # Ctrl-Z: SIGTSTP to the terminal's foreground group
            wait_for(lambda: state(pid) == "T", "the launcher stopped")
            events.append("launcher stopped")
            os.kill(pid, signal.SIGCONT)
            wait_for(lambda: state(pid) != "T" and os.tcgetpgrp(master) == command and state(command) != "T",
                     "the command back in the foreground")
            events.append("command in the foreground again")
        os.write(master, b"hello\n")
        wait_for(lambda: eof[0], "the end of the output")
    except Timeout as e:
        events.append(f"timeout: {e}")
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"status": os.waitstatus_to_exitcode(status),
                      "output": output.decode(errors="replace").replace("\r\n", "\n"), "events": events}))

def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""

def state(pid):
    stat = read(f"/proc/{pid}/stat")
    return stat.rsplit(b")", 1)[1].split()[0].decode() if stat else "-"

def children(pid):
    return [int(c) for task in os.listdir(f"/proc/{pid}/task")
            for c in read(f"/proc/{pid}/task/{task}/children").split()]

if __name__ == "__main__":
    main(sys.argv)
