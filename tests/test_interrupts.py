"""Interrupts: a busy loop and what was queued behind it, the watcher that
never mistakes a missed SIGINT for a handled one, and interrupts that land
where Python or IPython would swallow them.

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


def _start_and_interrupt(km, kc, code: str, marker: str = "callbacks running") -> str:
    """Execute ``code``; send SIGINT once it has printed ``marker`` (and is about
    to sleep where the interrupt would be swallowed). Returns the msg_id."""
    msg_id = kc.execute(code)
    while True:
        m = kc.get_iopub_msg(timeout=60)
        if (m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "stream"
                and marker in m["content"]["text"]):
            break
    km.interrupt()
    return msg_id


# Two callbacks with no Python frame of their own: an interrupt during the
# sleep lands in IPython's dispatch, the frame that called them.
SLOW_PRE_EXECUTE = """
import functools, time
get_ipython().events.register('pre_execute', functools.partial(print, 'callbacks running', flush=True))
get_ipython().events.register('pre_execute', functools.partial(time.sleep, {}))
"""


def test_an_interrupt_that_lands_in_ipythons_callback_dispatch_still_stops_the_cell(km, kc):
    """IPython's event dispatch catches KeyboardInterrupt and runs the cell
    anyway; an interrupt sent as the cell starts (here: while a pre_execute
    callback sleeps) must wait for the dispatch, then stop the cell."""
    assert run(kc, SLOW_PRE_EXECUTE.format(1.5))[0]["content"]["status"] == "ok"
    msg_id = _start_and_interrupt(km, kc, "import time; time.sleep(120); print('slept')")
    reply = shell_reply(kc, msg_id, timeout=60)["content"]
    msgs = iopub_until_idle(kc, msg_id)
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt", reply
    assert stdout_of(msgs) == ""  # no "Error in callback", nor the cell's print
    assert [m["content"]["ename"] for m in msgs if m["msg_type"] == "error"] == ["KeyboardInterrupt"]


def test_a_hung_callback_is_interrupted_after_the_patience_runs_out(km, kc):
    """A callback that never returns cannot hold the interrupt forever: after
    SWALLOW_PATIENCE it is interrupted as IPython would, and the cell runs."""
    assert run(kc, SLOW_PRE_EXECUTE.format(600))[0]["content"]["status"] == "ok"
    msg_id = _start_and_interrupt(km, kc, "print('cell ran')")
    reply = shell_reply(kc, msg_id, timeout=60)["content"]
    out = stdout_of(iopub_until_idle(kc, msg_id))
    assert reply["status"] == "ok", reply
    assert out.startswith("Error in callback functools.partial(<built-in function sleep>") and out.endswith("cell ran\n"), out


def test_an_interrupt_that_lands_in_a_finalizer_waits_and_stops_the_cell(km, kc):
    """Python drops what ``__del__`` raises: an interrupt landing there must
    wait for it to return, then stop the cell."""
    code = """
import time
class Slow:
    def __del__(self):
        print('finalizing', flush=True)
        time.sleep(1.5)
s = Slow()
del s
time.sleep(120)
print('slept')
"""
    msg_id = _start_and_interrupt(km, kc, code, marker="finalizing")
    reply = shell_reply(kc, msg_id, timeout=60)["content"]
    msgs = iopub_until_idle(kc, msg_id)
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt", reply
    assert stdout_of(msgs) == "" and "Exception ignored" not in stdout_of(msgs, "stderr")


def test_a_cell_interrupted_before_it_started_leaves_no_unawaited_coroutine(kc):
    """IPython makes a cell's coroutine, then picks how to run it; an interrupt
    in between (simulated here where the kernel asks whether to run the cell
    async) left a coroutine Python later warned about, in another cell."""
    assert run(kc, """
ip = get_ipython()
_should = ip.should_run_async
def _interrupt_here(raw_cell, **kw):
    if 'interrupt me' in raw_cell:
        raise KeyboardInterrupt
    return _should(raw_cell, **kw)
ip.should_run_async = _interrupt_here
""")[0]["content"]["status"] == "ok"
    reply, msgs = run(kc, "'interrupt me'")
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    reply, later = run(kc, "import gc; gc.collect(); print('collected')")
    assert stdout_of(later) == "collected\n"
    assert "never awaited" not in stdout_of(msgs + later, "stderr")
