"""The kernel process over real sockets: every request type and its side effects."""

from __future__ import annotations

import time

import pytest

from helpers import iopub_until_idle, run, shell_reply, stdout_of, strip_ansi, wait_until


def types(msgs):
    return [m["msg_type"] for m in msgs]


def test_kernel_info_reply(skc):
    msg_id = skc.kernel_info()
    reply = shell_reply(skc, msg_id)["content"]
    assert reply["status"] == "ok"
    assert reply["protocol_version"] == "5.4"
    assert reply["implementation"] == "qtapp-kernel"
    li = reply["language_info"]
    assert li["name"] == "python" and li["pygments_lexer"] == "ipython3" and li["file_extension"] == ".py"
    assert "Python" in reply["banner"]
    assert reply["help_links"] and all({"text", "url"} <= set(link) for link in reply["help_links"])


def test_reply_header_version_and_parent(skc):
    msg_id = skc.kernel_info()
    reply = shell_reply(skc, msg_id)
    assert reply["header"]["version"] == "5.4"
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["header"]["session"] != skc.session.session_id


def test_new_subscriber_is_welcomed(shared_km):
    kc = shared_km.client()
    kc.start_channels()
    try:
        msg = kc.get_iopub_msg(timeout=30)
        while msg["msg_type"] != "iopub_welcome":  # others' traffic may come first
            msg = kc.get_iopub_msg(timeout=30)
        assert msg["content"] == {"subscription": ""}
    finally:
        kc.stop_channels()


def test_busy_and_idle_wrap_every_request(skc):
    for send in (skc.kernel_info, lambda: skc.complete("pri"), lambda: skc.is_complete("x")):
        msg_id = send()
        msgs = iopub_until_idle(skc, msg_id)
        assert msgs[0]["msg_type"] == "status" and msgs[0]["content"]["execution_state"] == "busy"
        assert msgs[-1]["content"]["execution_state"] == "idle"


def test_execute_broadcasts_input_and_streams_result(skc):
    reply, msgs = run(skc, "import sys\nprint('out')\nprint('err', file=sys.stderr)\n6*7")
    content = reply["content"]
    assert content["status"] == "ok"
    n = content["execution_count"]
    assert types(msgs) == ["status", "execute_input", "stream", "stream", "execute_result", "status"]
    assert msgs[1]["content"] == {"code": "import sys\nprint('out')\nprint('err', file=sys.stderr)\n6*7",
                                  "execution_count": n}
    assert stdout_of(msgs) == "out\n" and stdout_of(msgs, "stderr") == "err\n"
    result = msgs[4]["content"]
    assert result["execution_count"] == n and result["data"]["text/plain"] == "42"


def test_execution_count_increments_only_when_storing_history(skc):
    a = run(skc, "1")[0]["content"]["execution_count"]
    b = run(skc, "1", store_history=False)[0]["content"]["execution_count"]
    c = run(skc, "1")[0]["content"]["execution_count"]
    assert b == a and c == a + 1


def test_top_level_await_async_for_and_async_with_run(skc):
    code = (
        "import asyncio, contextlib\n"
        "async def numbers():\n"
        "    for i in range(3):\n"
        "        yield i\n"
        "@contextlib.asynccontextmanager\n"
        "async def opened():\n"
        "    yield 'opened'\n"
        "await asyncio.sleep(0)\n"
        "total = 0\n"
        "async for i in numbers():\n"
        "    total += i\n"
        "async with opened() as state:\n"
        "    pass\n"
        "squares = [i * i async for i in numbers()]\n"
        "(total, state, squares, await asyncio.sleep(0, 'slept'))"
    )
    reply, msgs = run(skc, code)
    assert reply["content"]["status"] == "ok", reply["content"]
    [result] = [m for m in msgs if m["msg_type"] == "execute_result"]
    assert result["content"]["data"]["text/plain"] == "(3, 'opened', [0, 1, 4], 'slept')"


def test_silent_execute_has_no_input_broadcast_and_no_result(skc):
    reply, msgs = run(skc, "1 + 1", silent=True)
    assert reply["content"]["status"] == "ok"
    assert types(msgs) == ["status", "status"]


def test_error_reply_and_coloured_traceback(skc):
    reply, msgs = run(skc, "def f():\n    1/0\nf()")
    c = reply["content"]
    assert c["status"] == "error" and c["ename"] == "ZeroDivisionError" and c["evalue"] == "division by zero"
    err = [m for m in msgs if m["msg_type"] == "error"][0]["content"]
    assert err["ename"] == "ZeroDivisionError"
    text = "\n".join(err["traceback"])
    assert "\x1b[" in text  # coloured, for consoles that render ANSI
    assert "1/0" in strip_ansi(text) and "ZeroDivisionError" in strip_ansi(text)


def test_syntax_error_is_an_error_reply(skc):
    reply, msgs = run(skc, "def (")
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "SyntaxError"


def test_user_expressions(skc):
    run(skc, "zz = 21")
    c = run(skc, "pass", user_expressions={"double": "zz*2", "bad": "nope"})[0]["content"]
    assert c["user_expressions"]["double"]["data"]["text/plain"] == "42"
    assert c["user_expressions"]["bad"]["status"] == "error"


def test_display_update_and_clear_output(skc):
    code = ("from IPython.display import display, clear_output, HTML\n"
            "h = display(HTML('<b>one</b>'), display_id='d1')\n"
            "h.update(HTML('<b>two</b>'))\n"
            "clear_output(wait=True)\n")
    _, msgs = run(skc, code)
    disp = [m for m in msgs if m["msg_type"] == "display_data"][0]["content"]
    assert disp["data"]["text/html"] == "<b>one</b>" and disp["transient"] == {"display_id": "d1"}
    upd = [m for m in msgs if m["msg_type"] == "update_display_data"][0]["content"]
    assert upd["data"]["text/html"] == "<b>two</b>" and upd["transient"]["display_id"] == "d1"
    clear = [m for m in msgs if m["msg_type"] == "clear_output"][0]["content"]
    assert clear == {"wait": True}


def test_execute_result_carries_every_format(skc):
    code = ("class R:\n"
            "    def _repr_html_(self): return '<i>h</i>'\n"
            "    def _repr_markdown_(self): return '*m*'\n"
            "    def _repr_latex_(self): return '$x^2$'\n"
            "    def _repr_svg_(self): return '<svg xmlns=\"http://www.w3.org/2000/svg\"/>'\n"
            "    def _repr_png_(self): return b'\\x89PNG\\r\\n\\x1a\\n'\n"
            "R()")
    _, msgs = run(skc, code)
    data = [m for m in msgs if m["msg_type"] == "execute_result"][0]["content"]["data"]
    assert {"text/plain", "text/html", "text/markdown", "text/latex", "image/svg+xml", "image/png"} <= set(data)


def test_streams_are_flushed_before_reply_and_idle(skc):
    msg_id = skc.execute("for i in range(1000): print(i)")
    reply = shell_reply(skc, msg_id)
    msgs = iopub_until_idle(skc, msg_id)
    assert reply["content"]["status"] == "ok"
    assert stdout_of(msgs) == "".join(f"{i}\n" for i in range(1000))


def test_interleaved_stdout_and_stderr_keep_their_order(skc):
    code = "import sys\nfor i in range(50):\n    print('o', i)\n    print('e', i, file=sys.stderr)\n"
    _, msgs = run(skc, code)
    runs = []  # consecutive messages of one stream joined: a flush may split a line
    for m in msgs:
        if m["msg_type"] != "stream":
            continue
        name, text = m["content"]["name"], m["content"]["text"]
        if runs and runs[-1][0] == name:
            runs[-1] = (name, runs[-1][1] + text)
        else:
            runs.append((name, text))
    lines = []
    for name, text in runs:
        lines += [(name, line) for line in text.splitlines()]
    expected = []
    for i in range(50):
        expected += [("stdout", f"o {i}"), ("stderr", f"e {i}")]
    assert lines == expected


def test_output_from_threads_is_kept(skc):
    code = ("import threading\n"
            "def w(k):\n    for i in range(200): print(f'{k}:{i}')\n"
            "ts = [threading.Thread(target=w, args=(k,)) for k in range(4)]\n"
            "[t.start() for t in ts]; [t.join() for t in ts];\n")
    _, msgs = run(skc, code)
    lines = stdout_of(msgs).splitlines()
    assert sorted(lines) == sorted(f"{k}:{i}" for k in range(4) for i in range(200))


def test_streams_are_batched(skc):
    _, msgs = run(skc, "for i in range(20000): print(i)")
    streams = [m for m in msgs if m["msg_type"] == "stream"]
    assert len(streams) < 200  # not one message per line
    assert stdout_of(msgs).count("\n") == 20000


def test_page_payload_for_help(skc):
    c = run(skc, "len?")[0]["content"]
    pages = [p for p in c["payload"] if p["source"] == "page"]
    assert pages and "Return the number of items" in pages[0]["data"]["text/plain"]


def test_set_next_input_and_ask_exit_payloads(skc):
    c = run(skc, "get_ipython().set_next_input('x = 1'); get_ipython().set_next_input('y = 2')")[0]["content"]
    nexts = [p for p in c["payload"] if p["source"] == "set_next_input"]
    assert nexts == [{"source": "set_next_input", "text": "y = 2", "replace": False}]
    c = run(skc, "exit(keep_kernel=True)")[0]["content"]
    assert {"source": "ask_exit", "keepkernel": True} in c["payload"]


def test_complete(skc):
    run(skc, "import os")
    code = "os.pa"
    c = shell_reply(skc, skc.complete(code, len(code)))["content"]
    assert c["status"] == "ok"
    assert "os.path" in [code[:c["cursor_start"]] + m for m in c["matches"]]
    assert c["cursor_end"] == len(code)
    types_ = c["metadata"]["_jupyter_types_experimental"]
    assert any(t["text"].endswith("path") and t["type"] == "module" for t in types_)


def test_inspect_detail_levels(skc):
    run(skc, "def documented(a, b=2):\n    'Adds things.'\n    return a + b\n")
    c0 = shell_reply(skc, skc.inspect("documented(", 10, 0))["content"]
    assert c0["found"] is True
    text0 = strip_ansi(c0["data"]["text/plain"])
    assert "documented(a, b=2)" in text0
    assert "Adds things." in text0
    c1 = shell_reply(skc, skc.inspect("documented", 10, 1))["content"]
    assert "return a + b" in strip_ansi(c1["data"]["text/plain"])
    missing = shell_reply(skc, skc.inspect("no_such_name_here", 5, 0))["content"]
    assert missing["status"] == "ok" and missing["found"] is False and missing["data"] == {}


@pytest.mark.parametrize("code,status,indent", [
    ("x = 1", "complete", None),
    ("for i in range(3):", "incomplete", "    "),
    ("def f():\n    if x:", "incomplete", "        "),
    ("1 +* 2", "invalid", None),
])
def test_is_complete(skc, code, status, indent):
    c = shell_reply(skc, skc.is_complete(code))["content"]
    assert c["status"] == status
    assert c.get("indent") == indent


def test_history_tail_range_and_search(kc):
    for code in ("a_hist = 1", "b_hist = 2", "a_hist + b_hist", "a_hist = 1"):
        run(kc, code)
    tail = shell_reply(kc, kc.history(hist_access_type="tail", n=3))["content"]["history"]
    assert [h[2] for h in tail] == ["b_hist = 2", "a_hist + b_hist", "a_hist = 1"]
    rng = shell_reply(kc, kc.history(hist_access_type="range", session=0, start=1, stop=3))["content"]["history"]
    assert [h[2] for h in rng] == ["a_hist = 1", "b_hist = 2"]
    found = shell_reply(kc, kc.history(hist_access_type="search", pattern="a_hist*", unique=True))["content"]["history"]
    assert sorted(h[2] for h in found) == ["a_hist + b_hist", "a_hist = 1"]
    with_out = shell_reply(kc, kc.history(hist_access_type="range", session=0, start=3, stop=4, output=True))
    assert with_out["content"]["history"][0][2] == ["a_hist + b_hist", "3"]


def test_comm_info(skc):
    c = shell_reply(skc, skc.comm_info())["content"]
    assert c == {"status": "ok", "comms": {}}


def test_comm_open_to_unknown_target_is_closed(skc):
    msg = skc.session.msg("comm_open", {"comm_id": "c1", "target_name": "nobody", "data": {}})
    skc.shell_channel.send(msg)
    msgs = iopub_until_idle(skc, msg["msg_id"])
    assert [m["content"]["comm_id"] for m in msgs if m["msg_type"] == "comm_close"] == ["c1"]


def test_control_answers_while_shell_sleeps(kc):
    kc.execute("import time; time.sleep(10)")
    # the sleep has started once execute_input is out
    while kc.get_iopub_msg(timeout=30)["msg_type"] != "execute_input":
        pass
    t0 = time.monotonic()
    msg = kc.session.msg("kernel_info_request")
    kc.control_channel.send(msg)
    reply = kc.get_control_msg(timeout=30)
    elapsed = time.monotonic() - t0
    assert reply["parent_header"]["msg_id"] == msg["msg_id"]
    assert elapsed < 2.0, f"control took {elapsed:.3f} s behind a sleeping shell"
    kc.interrupt()


def test_heartbeat_answers_while_python_holds_the_gil(kc):
    msg_id = kc.execute("while True: pass")
    while kc.get_iopub_msg(timeout=30)["msg_type"] != "execute_input":
        pass
    assert kc.hb_channel.is_beating(timeout=10)
    kc.interrupt()
    assert shell_reply(kc, msg_id)["content"]["ename"] == "KeyboardInterrupt"


@pytest.mark.parametrize("mode", ["signal", "message"])
def test_interrupt_stops_a_busy_loop_and_the_kernel_lives(km, kc, mode):
    msg_id = kc.execute("while True: pass")
    while kc.get_iopub_msg(timeout=30)["msg_type"] != "execute_input":
        pass
    if mode == "signal":
        km.interrupt()
    else:
        kc.interrupt()
    reply = shell_reply(kc, msg_id)["content"]
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
    assert run(kc, "print('alive')")[0]["content"]["status"] == "ok"


def test_interrupt_while_idle_is_harmless(km, kc):
    km.interrupt()
    kc.interrupt()
    reply, msgs = run(kc, "print('still here')")
    assert stdout_of(msgs) == "still here\n"


def test_stop_on_error_aborts_queued_executes(kc):
    first = kc.execute("import time; time.sleep(0.5); 1/0")
    queued = kc.execute("print('must not run')")
    info = kc.kernel_info()
    r1 = shell_reply(kc, first)["content"]
    r2 = shell_reply(kc, queued)["content"]
    assert r1["status"] == "error"
    assert r2["status"] == "aborted" and "execution_count" in r2
    assert shell_reply(kc, info)["content"]["status"] == "ok"  # other requests still served
    assert stdout_of(iopub_until_idle(kc, queued)) == ""


def test_without_stop_on_error_queued_executes_run(kc):
    first = kc.execute("import time; time.sleep(0.5); 1/0", stop_on_error=False)
    queued = kc.execute("print('runs')")
    assert shell_reply(kc, first)["content"]["status"] == "error"
    assert shell_reply(kc, queued)["content"]["status"] == "ok"


def test_input_and_getpass_ask_the_frontend(kc):
    msg_id = kc.execute("name = input('Name: ')\nimport getpass\npw = getpass.getpass('Secret: ')\nprint(name, len(pw))")
    req = kc.get_stdin_msg(timeout=30)
    assert req["msg_type"] == "input_request"
    assert req["content"] == {"prompt": "Name: ", "password": False}
    assert req["parent_header"]["msg_id"] == msg_id
    kc.input("Ada", parent=req["header"])
    req = kc.get_stdin_msg(timeout=30)
    assert req["content"] == {"prompt": "Secret: ", "password": True}
    kc.input("hunter2")
    assert shell_reply(kc, msg_id)["content"]["status"] == "ok"
    assert stdout_of(iopub_until_idle(kc, msg_id)) == "Ada 7\n"


def test_input_without_allow_stdin_raises(kc):
    reply = shell_reply(kc, kc.execute("input()", allow_stdin=False))["content"]
    assert reply["status"] == "error" and reply["ename"] == "StdinNotImplementedError"


def test_input_eof_raises_eoferror(kc):
    msg_id = kc.execute("input('> ')")
    kc.get_stdin_msg(timeout=30)
    kc.input("\x04")
    reply = shell_reply(kc, msg_id)["content"]
    assert reply["ename"] == "EOFError"


def test_interrupt_while_waiting_for_input(km, kc):
    msg_id = kc.execute("input('> ')")
    kc.get_stdin_msg(timeout=30)
    km.interrupt()
    reply = shell_reply(kc, msg_id)["content"]
    assert reply["ename"] == "KeyboardInterrupt"
    assert run(kc, "1")[0]["content"]["status"] == "ok"


def test_shutdown_reply_is_also_published_and_the_process_ends(km, kc):
    proc = km.process
    path = km.connection_file
    msg_id = kc.shutdown()
    reply = kc.get_control_msg(timeout=30)
    assert reply["msg_type"] == "shutdown_reply" and reply["content"] == {"status": "ok", "restart": False}
    published = [m for m in iopub_until_idle(kc, msg_id) if m["msg_type"] == "shutdown_reply"]
    assert published and published[0]["content"]["restart"] is False
    proc.wait(10)
    assert path.exists()  # the manager wrote it, the manager removes it
    km.shutdown()
    assert not path.exists()


def test_interrupt_right_as_a_sleep_starts_is_not_lost(kc):
    """A SIGINT landing between the GIL release and the start of time.sleep
    used to be seen only when the sleep ended; it must interrupt at once."""
    for _ in range(20):
        msg_id = kc.execute("import sys, time\nsys.stdout.write('go')\nsys.stdout.flush()\ntime.sleep(60)")
        while True:
            m = kc.get_iopub_msg(timeout=60)
            if m["msg_type"] == "stream" and m["parent_header"].get("msg_id") == msg_id:
                break
        kc.interrupt()
        reply = shell_reply(kc, msg_id, timeout=20)["content"]
        assert reply["ename"] == "KeyboardInterrupt"


def test_interrupt_traceback_shows_only_user_code(kc):
    msg_id = kc.execute("import time\nprint('sleeping', flush=True)\ntime.sleep(60)")
    while kc.get_iopub_msg(timeout=60)["msg_type"] != "stream":
        pass
    kc.interrupt()
    error = [m for m in iopub_until_idle(kc, msg_id) if m["msg_type"] == "error"][0]["content"]
    text = strip_ansi("\n".join(error["traceback"]))
    assert "time.sleep(60)" in text
    assert "kernel/" not in text and "interrupts.py" not in text


def test_interrupting_a_flood_of_flushes_never_corrupts_iopub(kc):
    """An interrupt landing while the kernel sends output must wait until the
    message is out: a multipart message cut in half would reach clients as
    garbage (dropped for a bad signature)."""
    for _ in range(10):
        msg_id = kc.execute("while True:\n    print('x' * 100, flush=True)")
        while kc.get_iopub_msg(timeout=60)["msg_type"] != "stream":
            pass
        kc.interrupt()
        assert shell_reply(kc, msg_id)["content"]["ename"] == "KeyboardInterrupt"
        iopub_until_idle(kc, msg_id)
    assert kc.iopub_channel.dropped == 0
    reply, msgs = run(kc, "print('fine')")
    assert stdout_of(msgs) == "fine\n"


def test_only_the_asking_frontend_can_answer_input(km, kc):
    other = km.client(username="someone-else")
    other.wait_for_ready(timeout=60)
    try:
        msg_id = kc.execute("v = input('yours? ')")
        req = kc.get_stdin_msg(timeout=60)
        other.input("not mine to answer")  # sent on the other client's stdin socket
        kc.input("the answer", parent=req["header"])
        assert shell_reply(kc, msg_id)["content"]["status"] == "ok"
        reply, _ = run(kc, "pass", user_expressions={"v": "v"})
        assert reply["content"]["user_expressions"]["v"]["data"]["text/plain"] == "'the answer'"
    finally:
        other.stop_channels()


def test_history_reaches_the_database_soon_after_a_cell(kc, session_dir):
    """Cells are written in batches, at most about a second late, without any
    request asking; and a history request sees the newest cells at once."""
    import sqlite3

    db = session_dir / "ipython" / "profile_default" / "history.sqlite"

    def stored(source: str) -> bool:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT count(*) FROM history WHERE source_raw = ?", (source,)).fetchone()[0] == 1

    run(kc, "first_marker_cell = 1")
    wait_until(lambda: stored("first_marker_cell = 1"), what="the cell written to the history database")
    run(kc, "second_marker_cell = 2")
    tail = shell_reply(kc, kc.history(hist_access_type="tail", n=1))["content"]["history"]
    assert tail[-1][2] == "second_marker_cell = 2"
