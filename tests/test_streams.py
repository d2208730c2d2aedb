"""Captured stdout/stderr: batching, latency while a cell runs, idle output."""

from __future__ import annotations

from helpers import iopub_until_idle, run, shell_reply, stdout_of


def _next_stream(kc, msg_id=None, timeout=60):
    while True:
        m = kc.get_iopub_msg(timeout=timeout)
        if m["msg_type"] == "stream" and (msg_id is None or m["parent_header"].get("msg_id") == msg_id):
            return m


def test_output_of_a_running_cell_arrives_before_it_ends(kc):
    msg_id = kc.execute("import time\nprint('early')\ntime.sleep(30)\nprint('late')")
    first = _next_stream(kc, msg_id)
    assert first["content"]["text"] == "early\n"
    assert kc.shell_channel.recv_nowait() is None  # the cell is still running
    kc.interrupt()
    assert shell_reply(kc, msg_id)["content"]["ename"] == "KeyboardInterrupt"


def test_user_flush_sends_at_once(kc):
    msg_id = kc.execute("import sys, time\nsys.stdout.write('now')\nsys.stdout.flush()\ntime.sleep(30)")
    assert _next_stream(kc, msg_id)["content"]["text"] == "now"
    kc.interrupt()
    shell_reply(kc, msg_id)


def test_background_thread_output_while_idle_is_sent(kc, tmp_path):
    flag = tmp_path / "go"
    reply, _ = run(kc, "import threading, os, time\n"
                       "def later():\n"
                       f"    while not os.path.exists({str(flag)!r}): time.sleep(0.01)\n"
                       "    print('from the background')\n"
                       "threading.Thread(target=later, daemon=True).start()")
    assert reply["content"]["status"] == "ok"
    flag.touch()  # the kernel is idle now: no request is running
    assert _next_stream(kc)["content"]["text"] == "from the background\n"


def test_a_stdout_installed_by_the_user_is_left_alone(kc):
    run(kc, "import io, sys\nmine = io.StringIO()\nsys.stdout = mine")
    _, msgs = run(kc, "print('captured by the user')")
    assert stdout_of(msgs) == ""
    reply, msgs = run(kc, "print(mine.getvalue(), end='', file=sys.stderr)")
    assert stdout_of(msgs, "stderr") == "captured by the user\n"


def test_large_writes_are_chunked_in_order_with_multibyte_text(kc):
    code = "import sys\ns = ''.join(chr(0x410 + i % 32) + '☃' for i in range(1_500_000))\nsys.stdout.write(s)"
    msg_id = kc.execute(code)
    msgs = iopub_until_idle(kc, msg_id)
    streams = [m["content"]["text"] for m in msgs if m["msg_type"] == "stream"]
    assert len(streams) >= 3 and max(len(t) for t in streams) <= 1 << 20
    expected = "".join(chr(0x410 + i % 32) + "☃" for i in range(1_500_000))
    assert "".join(streams) == expected


def test_closing_sys_stdout_does_not_break_output(kc):
    run(kc, "import sys\nsys.stdout.close()")
    _, msgs = run(kc, "print('still works')")
    assert stdout_of(msgs) == "still works\n"


def test_stdout_is_not_a_tty_and_has_an_encoding(kc):
    reply, _ = run(kc, "import sys", user_expressions={"t": "sys.stdout.isatty()", "e": "sys.stdout.encoding"})
    ue = reply["content"]["user_expressions"]
    assert ue["t"]["data"]["text/plain"] == "False"
    assert ue["e"]["data"]["text/plain"] == "'utf-8'"
