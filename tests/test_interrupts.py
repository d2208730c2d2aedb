"""Interrupts: a busy loop and what was queued behind it, and the watcher
that never mistakes a missed SIGINT for a handled one.

The watcher re-sends SIGINT to the main thread when the Python-level handler
did not run (a signal landing just before a blocking call is seen only when
the call ends). It used to decide "handled" from a count snapshotted before
it waited; when the handler had emptied the pipe before the watcher woke,
that snapshot was stale, and the next missed signal looked handled: the cell
slept on. Here the two steps are made to happen in that order, in a process
of their own (signal handlers belong to the whole process).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from helpers import iopub_until_idle, run, shell_reply, stdout_of

SCRIPT = textwrap.dedent("""
    import os, signal, time
    from kernel.interrupts import InterruptHandling

    handling = InterruptHandling(lambda: None)
    handling.install()
    # cell 1: interrupted, the handler emptying the pipe before the watcher woke
    # (here: the handler runs with nothing in the pipe at all)
    handling.set_executing(True)
    try:
        handling._busy_handler(signal.SIGINT, None)
    except KeyboardInterrupt:
        pass
    handling.set_executing(False)
    # cell 2: a SIGINT reaches the pipe, but the main thread misses it (as when it
    # lands just before a blocking call): only the watcher's re-send can end the sleep
    handling.set_executing(True)
    os.write(handling._signal_w, bytes([signal.SIGINT]))
    start = time.monotonic()
    try:
        time.sleep(15)
        print("missed")
    except KeyboardInterrupt:
        print("interrupted", round(time.monotonic() - start, 2))
""")


def test_a_missed_signal_after_one_handled_unseen_is_sent_again():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr
    verdict, *elapsed = out.stdout.split()
    assert verdict == "interrupted", out.stdout
    assert float(elapsed[0]) < 5  # re-sent every 50 ms, not after the full 15 s


def test_interrupting_a_busy_loop_aborts_the_execute_queued_behind_it(km, kc):
    first = kc.execute("while True: pass")
    queued = kc.execute("print('must not run')")
    while True:  # wait until the loop is running
        m = kc.get_iopub_msg(timeout=60)
        if m["msg_type"] == "execute_input" and m["parent_header"]["msg_id"] == first:
            break
    km.interrupt()  # SIGINT to the kernel's process group
    reply = shell_reply(kc, first)["content"]
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
    assert shell_reply(kc, queued)["content"]["status"] == "aborted"
    assert stdout_of(iopub_until_idle(kc, queued)) == ""
    assert stdout_of(run(kc, "print('back')")[1]) == "back\n"


def test_an_interrupt_while_the_cell_is_still_compiling_is_shown_like_any_other(km, kc):
    """A long cell takes a while to compile: an interrupt then lands outside
    the user's code, and frontends must still see the error on IOPub."""
    code = "\n".join(f"x{i} = {i}" for i in range(300_000)) + "\nwhile True: pass"
    msg_id = kc.execute(code)
    while True:
        m = kc.get_iopub_msg(timeout=60)
        if m["msg_type"] == "execute_input" and m["parent_header"]["msg_id"] == msg_id:
            break
    km.interrupt()
    errors = [m["content"] for m in iopub_until_idle(kc, msg_id, timeout=60) if m["msg_type"] == "error"]
    assert [e["ename"] for e in errors] == ["KeyboardInterrupt"]
    assert shell_reply(kc, msg_id)["content"]["ename"] == "KeyboardInterrupt"
    assert stdout_of(run(kc, "print('back')")[1]) == "back\n"
