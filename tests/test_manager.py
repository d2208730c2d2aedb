"""KernelManager and KernelClient: start, interrupt, restart, shut down."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading

import pytest

from helpers import iopub_until_idle, process_gone, run, shell_reply, stdout_of, wait_until
from kernel.client import KernelClient
from kernel.connect import PORT_FIELDS
from kernel.manager import KernelManager, KernelStartError
from kernel.kernelspec import NoSuchKernel


def test_start_writes_a_private_file_and_shutdown_removes_everything(km):
    path = km.connection_file
    assert path.exists() and (os.stat(path).st_mode & 0o777) == 0o600
    info = json.loads(path.read_text())
    assert info["ip"] == "127.0.0.1" and len(info["key"]) == 64
    proc = km.process
    km.shutdown()
    assert proc.poll() is not None
    assert not path.exists()
    assert not km.is_alive()


def test_key_is_not_in_argv_or_environment(km):
    key = km.info.key
    with open(f"/proc/{km.process.pid}/cmdline", "rb") as f:
        assert key.encode() not in f.read()
    with open(f"/proc/{km.process.pid}/environ", "rb") as f:
        assert key.encode() not in f.read()


def test_execute_interactive_with_hooks(kc):
    seen = []
    reply = kc.execute_interactive("print('hello'); 6*7", timeout=60, output_hook=seen.append)
    assert reply["content"]["status"] == "ok"
    assert [m["msg_type"] for m in seen] == ["execute_input", "stream", "execute_result"]
    assert seen[1]["content"]["text"] == "hello\n"


def test_execute_interactive_answers_input_requests(kc):
    def answer(msg):
        assert msg["content"]["prompt"] == "who? "
        kc.input("world", parent=msg["header"])

    seen = []
    reply = kc.execute_interactive("print('hi', input('who? '))", timeout=60, stdin_hook=answer,
                                   output_hook=seen.append)
    assert reply["content"]["status"] == "ok"
    assert stdout_of(seen) == "hi world\n"


def test_execute_interactive_times_out_clearly(kc):
    with pytest.raises(TimeoutError):
        kc.execute_interactive("import time; time.sleep(5)", timeout=0.5)
    kc.interrupt()


def test_wait_for_ready_returns_kernel_info(km):
    kc = km.client()
    try:
        reply = kc.wait_for_ready(timeout=60)
        assert reply["msg_type"] == "kernel_info_reply"
        assert kc.kernel_info_reply is reply
    finally:
        kc.stop_channels()


def test_heartbeat(kc, km):
    assert kc.is_alive()
    os.kill(km.process.pid, signal.SIGSTOP)
    try:
        wait_until(lambda: _state(km.process.pid) == "T", what="kernel stopped")
        assert not kc.hb_channel.is_beating(timeout=0.5)
    finally:
        os.kill(km.process.pid, signal.SIGCONT)
    assert kc.hb_channel.is_beating(timeout=30)


def test_restart_gives_a_new_session_a_new_key_and_the_same_ports(km, kc):
    run(kc, "x = 1")
    old_key, old_ports = km.info.key, (km.info.shell_port, km.info.iopub_port)
    old_session = kc.kernel_info_reply["header"]["session"]
    captured = kc.session.serialize(kc.session.msg("execute_request", {"code": "import os; os._exit(3)"}))
    km.restart()
    assert km.info.key != old_key
    assert (km.info.shell_port, km.info.iopub_port) == old_ports
    assert json.loads(km.connection_file.read_text())["key"] == km.info.key
    reply = kc.wait_for_ready(timeout=60)
    assert reply["header"]["session"] != old_session
    r, msgs = run(kc, "print('x' in globals())")
    assert stdout_of(msgs) == "False\n"
    assert r["content"]["execution_count"] == 1
    # a message captured before the restart is refused after it
    kc.shell_channel.socket.send_multipart(captured)
    assert run(kc, "1")[0]["content"]["status"] == "ok"
    assert km.is_alive()


def test_shutdown_request_published_on_restart(km, kc):
    observer = KernelClient.from_connection_file(km.connection_file)  # keeps the old key
    observer.start_channels()
    try:
        observer.wait_for_ready(timeout=60)
        km.restart()
        seen = []
        while True:
            m = observer.iopub_channel.get_msg(timeout=60)
            seen.append(m["msg_type"])
            if m["msg_type"] == "shutdown_reply":
                assert m["content"]["restart"] is True
                break
    finally:
        observer.stop_channels()


def test_the_restart_broadcast_names_the_managers_user_and_session(tmp_path):
    km = KernelManager(username="alice")
    km.start()
    observer = KernelClient.from_connection_file(km.connection_file)  # keeps the old key
    try:
        observer.wait_for_ready(timeout=60)
        km.restart()
        while True:
            m = observer.iopub_channel.get_msg(timeout=60)
            if m["msg_type"] == "shutdown_reply":
                break
        assert m["parent_header"]["username"] == "alice"
        assert m["parent_header"]["session"] == km.session_id
    finally:
        observer.stop_channels()
        km.shutdown(now=True)


def test_starting_again_after_a_shutdown_uses_a_new_key():
    km = KernelManager()
    km.start()
    try:
        first_key, ports = km.info.key, [getattr(km.info, f) for f in PORT_FIELDS]
        kc = km.client()
        kc.wait_for_ready(timeout=60)
        captured = kc.session.serialize(kc.session.msg("execute_request", {"code": "import os; os._exit(3)"}))
        km.shutdown()
        km.start()
        assert km.info.key != first_key
        assert json.loads(km.connection_file.read_text())["key"] == km.info.key
        assert [getattr(km.info, f) for f in PORT_FIELDS] == ports
        kc.update_key(km.info.key)
        kc.wait_for_ready(timeout=60)
        # a message signed for the first kernel is refused by the second
        kc.shell_channel.socket.send_multipart(captured)
        assert kc.execute_interactive("1", timeout=60)["content"]["status"] == "ok"
        assert km.is_alive()
        kc.stop_channels()
    finally:
        km.shutdown(now=True)


def test_interrupt_signal_reaches_the_kernel_process_group(km, kc):
    msg_id = kc.execute("import subprocess, sys\n"
                        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
                        "print(p.pid, flush=True)\n"
                        "p.wait()")
    while True:
        m = kc.get_iopub_msg(timeout=60)
        if m["msg_type"] == "stream":
            child = int(m["content"]["text"])
            break
    km.interrupt()
    assert shell_reply(kc, msg_id)["content"]["ename"] == "KeyboardInterrupt"
    wait_until(lambda: process_gone(child), what="child interrupted")


def test_interrupt_mode_message_sends_interrupt_request_on_control(tmp_path, monkeypatch):
    spec_dir = tmp_path / "kernels" / "by-message"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "kernel", "-f", "{connection_file}"],
        "display_name": "By message", "language": "python", "interrupt_mode": "message",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    km = KernelManager(kernel_name="by-message")
    assert km.interrupt_mode == "message"
    km.start()
    kc = km.client()
    try:
        kc.wait_for_ready(timeout=60)
        msg_id = kc.execute("while True: pass")
        seen = []
        while not any(m["msg_type"] == "execute_input" for m in seen):  # the loop is running
            seen.append(kc.get_iopub_msg(timeout=60))
        km.interrupt()
        reply = shell_reply(kc, msg_id)
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
        # the kernel announces every request it handles, so the interrupt shows as a message
        while not any(m["parent_header"].get("msg_type") == "interrupt_request" for m in seen):
            seen.append(kc.get_iopub_msg(timeout=60))
        request = next(m for m in seen if m["parent_header"].get("msg_type") == "interrupt_request")
        assert request["parent_header"]["session"] == km.session_id
        assert run(kc, "1")[0]["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
        km.shutdown(now=True)


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def test_shutdown_kills_children_in_the_process_group(km, kc):
    msg_id = kc.execute("import subprocess, sys\n"
                        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
                        "print(p.pid)")
    child = int(stdout_of(iopub_until_idle(kc, msg_id)))
    km.shutdown()
    wait_until(lambda: process_gone(child), what="child gone")


def test_kernel_ignoring_signals_is_killed_after_the_grace_period():
    km = KernelManager()
    km.start()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        run(kc, "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN)")
        kc.execute("while True:\n    try:\n        pass\n    except BaseException:\n        pass")
        proc = km.process
        km.shutdown()
        assert proc.poll() is not None
    finally:
        kc.stop_channels()


def test_autorestart_after_death_and_giving_up(tmp_path):
    km = KernelManager(autorestart=True, max_restarts=2, restart_window=600)
    restarted, dead = threading.Event(), threading.Event()
    km.add_restart_callback(restarted.set, "restart")
    km.add_restart_callback(dead.set, "dead")
    km.start()
    try:
        first = km.process.pid
        os.kill(first, signal.SIGKILL)
        assert restarted.wait(60)
        assert km.process.pid != first and km.is_alive()
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        kc.stop_channels()
        restarted.clear()
        os.kill(km.process.pid, signal.SIGKILL)
        assert restarted.wait(60)
        os.kill(km.process.pid, signal.SIGKILL)
        assert dead.wait(60)
        wait_until(lambda: not km.is_alive(), what="kernel stays dead")
    finally:
        km.shutdown(now=True)


def test_kernel_cmd_with_connection_file_placeholder():
    km = KernelManager(kernel_cmd=[sys.executable, "-m", "kernel", "-f", "{connection_file}"])
    km.start()
    try:
        kc = km.client()
        reply = kc.wait_for_ready(timeout=60)
        assert reply["content"]["implementation"] == "qtapp-kernel"
        kc.stop_channels()
    finally:
        km.shutdown()


def test_kernel_cmd_needs_the_placeholder():
    with pytest.raises(ValueError, match="connection_file"):
        KernelManager(kernel_cmd=[sys.executable, "-m", "kernel"])


def test_kernel_name_looks_up_a_kernelspec(tmp_path, monkeypatch):
    spec_dir = tmp_path / "kernels" / "custom"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "kernel", "-f", "{connection_file}"],
        "display_name": "Custom", "language": "python", "env": {"CUSTOM_MARK": "yes"},
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    km = KernelManager(kernel_name="custom")
    km.start()
    try:
        kc = km.client()
        kc.wait_for_ready(timeout=60)
        reply, _ = run(kc, "import os", user_expressions={"m": "os.environ.get('CUSTOM_MARK')"})
        assert reply["content"]["user_expressions"]["m"]["data"]["text/plain"] == "'yes'"
        kc.stop_channels()
    finally:
        km.shutdown()


def test_unknown_kernel_name_is_a_clear_error():
    with pytest.raises(NoSuchKernel, match="no kernel named 'nope'"):
        KernelManager(kernel_name="nope")


def test_start_failure_reports_the_kernels_own_output():
    km = KernelManager(kernel_cmd=[sys.executable, "-m", "kernel", "-f", "{connection_file}", "--bogus-option"])
    with pytest.raises(KernelStartError) as err:
        km.start()
    assert "unrecognized arguments: --bogus-option" in err.value.output
    assert "exited during start-up" in str(err.value)
    km.cleanup()


def test_a_background_start_is_awaited_by_start():
    km = KernelManager()
    km.start_in_background()
    try:
        km.start()  # waits for the background start instead of starting a second kernel
        assert not km.start_pending and km.is_alive()
        kc = km.client()
        kc.wait_for_ready(timeout=30)
        kc.stop_channels()
    finally:
        km.shutdown()


def test_a_background_start_that_fails_raises_in_start():
    km = KernelManager(kernel_cmd=[sys.executable, "-m", "kernel", "-f", "{connection_file}", "--bogus-option"])
    km.start_in_background()
    with pytest.raises(KernelStartError) as err:
        km.start()
    assert "unrecognized arguments: --bogus-option" in err.value.output
    km.cleanup()


def test_port_taken_before_bind_is_retried(monkeypatch):
    import socket

    from kernel import manager as manager_mod

    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    real = manager_mod.new_connection_info
    calls = []

    def first_with_a_taken_port(*args, **kwargs):
        info = real(*args, **kwargs)
        if not calls:
            info.shell_port = taken
        calls.append(info)
        return info

    monkeypatch.setattr(manager_mod, "new_connection_info", first_with_a_taken_port)
    km = KernelManager()
    try:
        km.start()
        assert len(calls) == 2 and km.info.shell_port != taken
        kc = km.client()
        kc.wait_for_ready(timeout=60)
        kc.stop_channels()
    finally:
        blocker.close()
        km.shutdown()


def test_client_from_connection_file(km):
    kc = KernelClient.from_connection_file(km.connection_file)
    try:
        kc.wait_for_ready(timeout=60)
        assert kc.execute_interactive("1", timeout=60)["content"]["status"] == "ok"
    finally:
        kc.stop_channels()


def test_client_follows_a_restart_by_reloading_the_file(km):
    kc = KernelClient.from_connection_file(km.connection_file)
    try:
        kc.wait_for_ready(timeout=60)
        km.restart()
        assert kc.reload_connection_file() is True
        kc.wait_for_ready(timeout=60)
        assert kc.execute_interactive("1", timeout=60)["content"]["status"] == "ok"
    finally:
        kc.stop_channels()


def test_usernames_and_sessions_identify_clients(km):
    a = km.client(username="alice")
    b = km.client(username="bob")
    try:
        a.wait_for_ready(timeout=60)
        b.wait_for_ready(timeout=60)
        msg_id = a.execute("print('from alice')")
        seen = iopub_until_idle(b, msg_id)
        inp = [m for m in seen if m["msg_type"] == "execute_input"][0]
        assert inp["parent_header"]["username"] == "alice"
        assert inp["parent_header"]["session"] == a.session.session_id != b.session.session_id
        shell_reply(a, msg_id)
    finally:
        a.stop_channels()
        b.stop_channels()


def test_input_requests_go_only_to_the_requester(km):
    a, b = km.client(), km.client()
    try:
        a.wait_for_ready(timeout=60)
        b.wait_for_ready(timeout=60)
        msg_id = a.execute("v = input('? ')")
        req = a.get_stdin_msg(timeout=60)
        assert req["parent_header"]["msg_id"] == msg_id
        assert b.stdin_channel.recv_nowait() is None
        a.input("ok")
        assert shell_reply(a, msg_id)["content"]["status"] == "ok"
        assert b.stdin_channel.recv_nowait() is None
    finally:
        a.stop_channels()
        b.stop_channels()
