#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""vmctl - talk to the test guest's QEMU (QMP) and to its guest agent.

  vmctl.py qmp SOCK COMMAND [JSON-ARGS]   run one QMP command, print its return
  vmctl.py hmp SOCK LINE                  run one monitor line, print its output
  vmctl.py ping QGA SECONDS               wait until the guest agent answers
  vmctl.py exec QGA SECONDS SHELL-CMD     run 'sh -c SHELL-CMD' in the guest:
                                          its stdout and stderr, its exit status
                                          (124 when it outlives SECONDS)
  vmctl.py clock QGA                      the guest's wall clock less the host's,
                                          in microseconds (best of 5 round trips)

Each call opens its own connection, so the shell scripts need no daemon.
"""
import base64
import json
import os
import random
import socket
import sys
import time


def die(msg, status=2):
    print("vmctl: " + msg, file=sys.stderr)
    sys.exit(status)


class Chan:
    """Newline-delimited JSON over a unix socket."""

    def __init__(self, path, timeout):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

    def send(self, obj):
        self.s.sendall(json.dumps(obj).encode() + b"\n")

    def recv(self):
        while b"\n" not in self.buf:
            data = self.s.recv(65536)
            if not data:
                raise EOFError("connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        # guest-sync-delimited answers after a 0xff byte; stale halves of
        # earlier answers may come first: skip what does not parse.
        line = line.replace(b"\xff", b"").strip()
        if not line:
            return None
        try:
            return json.loads(line)
        except ValueError:
            return None

    def close(self):
        self.s.close()


def qmp_call(path, command, args=None, timeout=30):
    c = Chan(path, timeout)
    try:
        while True:  # the greeting
            m = c.recv()
            if m and "QMP" in m:
                break
        for cmd, a in (("qmp_capabilities", None), (command, args)):
            req = {"execute": cmd}
            if a is not None:
                req["arguments"] = a
            c.send(req)
            while True:
                m = c.recv()
                if m is None or "event" in m:
                    continue
                if "error" in m:
                    die("%s: %s" % (cmd, m["error"].get("desc", m["error"])), 1)
                if "return" in m:
                    break
        return m["return"]
    finally:
        c.close()


def qga_open(path, timeout):
    c = Chan(path, timeout)
    token = random.randint(1, 2**31)
    c.send({"execute": "guest-sync-delimited", "arguments": {"id": token}})
    while True:
        m = c.recv()
        if m and m.get("return") == token:
            return c


def qga_call(c, command, args=None):
    req = {"execute": command}
    if args is not None:
        req["arguments"] = args
    c.send(req)
    while True:
        m = c.recv()
        if m is None:
            continue
        if "error" in m:
            raise RuntimeError("%s: %s" % (command, m["error"].get("desc", m["error"])))
        if "return" in m:
            return m["return"]


def cmd_ping(path, seconds):
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            die("the guest agent did not answer in %g s" % seconds, 1)
        try:
            c = qga_open(path, min(5.0, left))
            qga_call(c, "guest-ping")
            c.close()
            return 0
        except (OSError, EOFError, RuntimeError):
            time.sleep(1)


def cmd_exec(path, seconds, shell_cmd):
    c = qga_open(path, 30)
    try:
        pid = qga_call(c, "guest-exec", {
            "path": "/bin/sh", "arg": ["-c", shell_cmd], "capture-output": True})["pid"]
        end = time.monotonic() + seconds
        delay = 0.05
        while True:
            st = qga_call(c, "guest-exec-status", {"pid": pid})
            if st.get("exited"):
                break
            if time.monotonic() > end:
                # Leave no runaway command behind in the guest.
                try:
                    qga_call(c, "guest-exec", {"path": "/bin/kill",
                                               "arg": ["-KILL", "--", str(pid)]})
                except RuntimeError:
                    pass
                print("vmctl: guest command timed out after %g s: %s" % (seconds, shell_cmd),
                      file=sys.stderr)
                return 124
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
    finally:
        c.close()
    sys.stdout.buffer.write(base64.b64decode(st.get("out-data", "")))
    sys.stdout.flush()
    sys.stderr.buffer.write(base64.b64decode(st.get("err-data", "")))
    if "signal" in st:
        return 128 + st["signal"]
    return st.get("exitcode", 1)


def cmd_clock(path):
    c = qga_open(path, 30)
    best = None
    try:
        for _ in range(5):
            t0 = time.time_ns()
            guest = qga_call(c, "guest-get-time")
            t1 = time.time_ns()
            if best is None or t1 - t0 < best[0]:
                best = (t1 - t0, guest - (t0 + t1) // 2)
    finally:
        c.close()
    print(best[1] // 1000)
    return 0


def main(argv):
    if len(argv) < 3:
        die(__doc__.strip())
    op, sock = argv[1], argv[2]
    if not os.path.exists(sock):
        die("%s: no such socket" % sock)
    if op == "qmp":
        args = json.loads(argv[4]) if len(argv) > 4 else None
        print(json.dumps(qmp_call(sock, argv[3], args)))
        return 0
    if op == "hmp":
        out = qmp_call(sock, "human-monitor-command", {"command-line": argv[3]})
        sys.stdout.write(out)
        # HMP reports failure as text, not as a QMP error.
        return 1 if out.strip().lower().startswith(("error", "could not")) else 0
    if op == "ping":
        return cmd_ping(sock, float(argv[3]))
    if op == "exec":
        return cmd_exec(sock, float(argv[3]), argv[4])
    if op == "clock":
        return cmd_clock(sock)
    die("unknown operation %s" % op)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
