"""The kernel under load and awkward programs: waiting for input, clients that
vanish, floods of output from one or many threads, and forked children."""

from __future__ import annotations

import queue
import re
import time

from helpers import cpu_seconds, iopub_until_idle, run, shell_reply, stdout_of


# -- input() -------------------------------------------------------------------------

def test_input_waits_without_using_cpu_and_interrupt_ends_it(km, kc):
    msg_id = kc.execute("answer = input('? ')")
    request = kc.get_stdin_msg(timeout=60)  # from here on the kernel waits for us
    assert request["parent_header"]["msg_id"] == msg_id
    pid = km.process.pid
    before = cpu_seconds(pid)
    end = time.monotonic() + 2.0
    unexpected = []
    while (left := end - time.monotonic()) > 0:
        try:  # wait on the stdin channel, where nothing more should come
            unexpected.append(kc.get_stdin_msg(timeout=left))
        except queue.Empty:
            pass
    used = cpu_seconds(pid) - before
    assert unexpected == []
    assert used < 0.2, f"the kernel used {used:.2f} s of CPU in 2 s of waiting for input"
    km.interrupt()
    assert shell_reply(kc, msg_id)["content"]["ename"] == "KeyboardInterrupt"
    assert stdout_of(run(kc, "print('back')")[1]) == "back\n"


# -- the heartbeat ---------------------------------------------------------------------

def test_heartbeat_answers_while_user_code_holds_the_gil_in_one_c_call(kc):
    msg_id = kc.execute("sum(range(3 * 10**8))")  # a few seconds inside sum(), GIL held throughout
    while True:  # wait until the cell is running
        m = kc.get_iopub_msg(timeout=60)
        if m["msg_type"] == "execute_input" and m["parent_header"]["msg_id"] == msg_id:
            break
    for _ in range(5):
        assert kc.hb_channel.is_beating(timeout=2.0)
    assert not kc.shell_channel.msg_ready(), "the cell ended before the pings: make it longer"
    reply = shell_reply(kc, msg_id, timeout=120)
    assert reply["content"]["status"] == "ok"


# -- clients that vanish ---------------------------------------------------------------

def test_a_client_leaving_mid_execution_does_not_stop_the_cell_or_the_kernel(km):
    a, b = km.client(username="a"), km.client(username="b")
    try:
        a.wait_for_ready(timeout=60)
        b.wait_for_ready(timeout=60)
        msg_id = a.execute("import time\n"
                           "for i in range(40):\n"
                           "    print(i, flush=True)\n"
                           "    time.sleep(0.01)\n"
                           "print('done')")
        seen = []
        while not any(m["msg_type"] == "stream" for m in seen):  # the cell is running
            m = b.get_iopub_msg(timeout=60)
            if m["parent_header"].get("msg_id") == msg_id:
                seen.append(m)
        a.stop_channels()  # gone, with its reply still to come
        seen += iopub_until_idle(b, msg_id)
        assert stdout_of(seen) == "".join(f"{i}\n" for i in range(40)) + "done\n"
        reply, msgs = run(b, "print('b is served')")
        assert reply["content"]["status"] == "ok" and stdout_of(msgs) == "b is served\n"
        assert km.is_alive()
    finally:
        a.stop_channels()
        b.stop_channels()


# -- output floods -------------------------------------------------------------------

def test_200000_lines_arrive_complete_in_order_and_before_idle(skc):
    reply, msgs = run(skc, "for i in range(200_000): print(i)", timeout=180)
    assert reply["content"]["status"] == "ok"
    # run() stops at idle: everything counted here came before it
    assert stdout_of(msgs) == "".join(f"{i}\n" for i in range(200_000))


def _merge_runs(pairs: list) -> list:
    """Join adjacent chunks of the same stream: batching may split or join
    writes, but must never reorder them."""
    merged: list = []
    for name, text in pairs:
        if merged and merged[-1][0] == name:
            merged[-1] = (name, merged[-1][1] + text)
        else:
            merged.append((name, text))
    return merged


def test_interleaved_stdout_and_stderr_keep_their_order_under_volume(skc):
    code = ("import sys\n"
            "for i in range(5000):\n"
            "    print('o', i)\n"
            "    sys.stderr.write(f'e {i}\\n')\n"
            "    if i % 3 == 0:\n"
            "        sys.stdout.write('partial ')\n"
            "        sys.stdout.write('line\\n')\n")
    expected = []
    for i in range(5000):
        expected += [("stdout", f"o {i}\n"), ("stderr", f"e {i}\n")]
        if i % 3 == 0:
            expected += [("stdout", "partial line\n")]
    _, msgs = run(skc, code, timeout=120)
    got = [(m["content"]["name"], m["content"]["text"]) for m in msgs if m["msg_type"] == "stream"]
    assert _merge_runs(got) == _merge_runs(expected)


def test_threads_writing_concurrently_lose_nothing_and_keep_their_own_order(skc):
    code = ("import sys, threading\n"
            "def w(k):\n"
            "    for i in range(5000):\n"
            "        sys.stdout.write(f'{k}:{i}\\n')\n"
            "ts = [threading.Thread(target=w, args=(k,)) for k in range(8)]\n"
            "[t.start() for t in ts]\n"
            "w(8)\n"
            "[t.join() for t in ts]\n")
    _, msgs = run(skc, code, timeout=120)
    lines = stdout_of(msgs).splitlines()
    assert len(lines) == 9 * 5000
    for k in range(9):
        assert [line for line in lines if line.startswith(f"{k}:")] == [f"{k}:{i}" for i in range(5000)]


def test_threads_printing_concurrently_lose_nothing(skc):
    """print() writes the text and the newline separately, so lines from two
    threads may share a line (as in any Python), but no text is lost."""
    code = ("import threading\n"
            "def p(k):\n"
            "    for i in range(3000):\n"
            "        print(f'<{k}:{i}>')\n"
            "ts = [threading.Thread(target=p, args=(k,)) for k in range(6)]\n"
            "[t.start() for t in ts]; [t.join() for t in ts];\n")
    _, msgs = run(skc, code, timeout=120)
    text = stdout_of(msgs)
    tokens = re.findall(r"<(\d+):(\d+)>", text)
    assert len(tokens) == 6 * 3000 and text.count("\n") == 6 * 3000
    for k in range(6):
        assert [int(i) for kk, i in tokens if kk == str(k)] == list(range(3000))


# -- forked children ---------------------------------------------------------------------

def _assert_serves_normally(kc, times: int = 10) -> None:
    """Exactly one reply per request and each output where it belongs: no
    second process is answering on the kernel's sockets."""
    for i in range(times):
        reply, msgs = run(kc, f"print({i} * 2)")
        assert reply["content"]["status"] == "ok" and stdout_of(msgs) == f"{i * 2}\n"
    assert kc.shell_channel.get_msgs() == []


def test_a_forked_child_never_writes_to_the_parents_sockets(km, kc):
    code = ("import os, sys\n"
            "from IPython.display import display\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    print('child says hi')\n"
            "    sys.stderr.write('child complains\\n')\n"
            "    display('child display')\n"
            "    os._exit(0)\n"
            "os.waitpid(pid, 0)\n"
            "print('parent done')\n")
    reply, msgs = run(kc, code)
    assert reply["content"]["status"] == "ok"
    # The child wrote its text to the process's descriptors, which the parent
    # forwards (once); its display() had no socket to go to.
    assert sorted(stdout_of(msgs).splitlines()) == ["child says hi", "parent done"]
    assert stdout_of(msgs, "stderr") == "child complains\n"
    assert not [m for m in msgs if m["msg_type"] == "display_data"]
    assert "child says hi" not in km.kernel_output()
    _assert_serves_normally(kc)


def test_a_forked_child_that_finishes_the_cell_does_not_become_a_second_kernel(km, kc):
    code = ("import os\n"
            "pid = os.fork()\n"
            "print('after the fork in the', 'child' if pid == 0 else 'parent')\n"
            "if pid:\n"
            "    _, status = os.waitpid(pid, 0)\n"
            "    print('child exit status', status)\n")
    reply, msgs = run(kc, code)
    assert reply["content"]["status"] == "ok"
    lines = stdout_of(msgs).splitlines()
    assert sorted(lines) == ["after the fork in the child", "after the fork in the parent", "child exit status 0"]
    assert lines.index("after the fork in the parent") < lines.index("child exit status 0")
    assert len([m for m in msgs if m["msg_type"] == "status"]) == 2  # one busy, one idle: one kernel answered
    _assert_serves_normally(kc)


def test_input_in_a_forked_child_raises_eof_and_the_parent_carries_on(km, kc):
    code = ("import os\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    try:\n"
            "        input('child? ')\n"
            "    except EOFError as exc:\n"
            "        print('child got EOFError:', exc)\n"
            "    os._exit(0)\n"
            "os.waitpid(pid, 0)\n"
            "print('parent fine')\n")
    reply, msgs = run(kc, code, timeout=60)
    assert reply["content"]["status"] == "ok"
    assert kc.stdin_channel.get_msgs() == []  # no input request reached the frontend
    assert sorted(stdout_of(msgs).splitlines()) == [
        "child got EOFError: input() is not available in a forked child process", "parent fine"]
    _assert_serves_normally(kc)


def test_multiprocessing_with_fork_keeps_the_parent_working(km, kc):
    code = ("import multiprocessing as mp\n"
            "from IPython.display import display\n"
            "def work(q):\n"
            "    print('worker prints')\n"
            "    display('worker display')\n"
            "    q.put(42)\n"
            "ctx = mp.get_context('fork')\n"
            "q = ctx.Queue()\n"
            "p = ctx.Process(target=work, args=(q,))\n"
            "p.start()\n"
            "value = q.get(timeout=60)\n"
            "p.join(60)\n"
            "with ctx.Pool(2) as pool:\n"
            "    squares = pool.map(abs, range(-4, 0))\n"
            "print('parent got', value, p.exitcode, squares)\n")
    reply, msgs = run(kc, code, timeout=120)
    assert reply["content"]["status"] == "ok", reply["content"]
    assert sorted(stdout_of(msgs).splitlines()) == ["parent got 42 0 [4, 3, 2, 1]", "worker prints"]
    assert not [m for m in msgs if m["msg_type"] == "display_data"]
    _assert_serves_normally(kc)
