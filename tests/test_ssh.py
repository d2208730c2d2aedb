"""Remote kernels through ssh, against a real sshd on 127.0.0.1 started for
these tests (key login to this same machine): the tunnel, ``qtapp --existing
FILE --ssh``, its errors, and tunnels ending with their console."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console_helpers import TIMEOUT_MS, StallProbe, run
from desktop_helpers import AppProcess
from helpers import listening_tcp_sockets, process_gone, wait_until
from kernel.client import KernelClient
from kernel.connect import (CHANNELS, PROCESS_FIELD, new_connection_info, process_is_gone,
                            sweep_stale_connection_files, write_connection_file)
from kernel.tunnel import SshServer, TunnelError, parse_server, tunnel_to_kernel
from qtapp.__main__ import build_parser
from qtapp.app import ConsoleApp
from qtapp.remote import RemoteKernel
from qtapp.settings import Preferences, open_settings
from sshd import INSTALL_TIMEOUT, ensure_sshd, start_sshd

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    path, reason = ensure_sshd()  # may install openssh-server: see the first test's time limit
    if path is None:
        pytest.skip(reason)
    server = start_sshd(path, tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


@pytest.mark.timeout(3 * INSTALL_TIMEOUT + 60)  # the first test may wait for apt-get
def test_the_test_server_accepts_its_key_and_refuses_another(sshd):
    def login(key):
        cmd = ["ssh", "-o", "BatchMode=yes", "-i", str(key), "-o", "IdentitiesOnly=yes", "-p", str(sshd.port)]
        for option in sshd.ssh_options:
            cmd += ["-o", option]
        return subprocess.run(cmd + [f"{sshd.user}@127.0.0.1", "true"], capture_output=True, text=True, timeout=60)

    assert login(sshd.key).returncode == 0
    refused = login(sshd.other_key)
    assert refused.returncode == 255 and "Permission denied" in refused.stderr


def _ssh_children(pid: int) -> list:
    """ssh processes started by ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat_fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat_fields[1]) == pid and os.path.basename(cmd[0]) == b"ssh" and stat_fields[0] != "Z":
            found.append(int(entry))
    return found


def _app(tmp_path, *args):
    options = build_parser().parse_args(["--settings", str(tmp_path / "s.ini"), *args])
    exits = []
    return ConsoleApp(options, Preferences(open_settings(options.settings)), exit=exits.append), exits


def _ssh_args(sshd, key=None):
    args = ["--ssh", sshd.server, "--sshkey", str(key or sshd.key)]
    for option in sshd.ssh_options:
        args += ["--ssh-option", option]
    return args


# -- parsing --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("host", SshServer("host", "host", None)),
    ("ada@host", SshServer("ada@host", "host", None)),
    ("ada@host:2222", SshServer("ada@host", "host", 2222)),
    ("ada@[::1]:2222", SshServer("ada@::1", "::1", 2222)),
    ("::1", SshServer("::1", "::1", None)),
])
def test_servers_are_parsed(text, expected):
    assert parse_server(text) == expected


@pytest.mark.parametrize("text", ["", "ada@", "@host", "host:0", "host:http", "-oProxyCommand=x", "a b"])
def test_bad_servers_are_refused_clearly(text):
    with pytest.raises(TunnelError, match="not an ssh"):
        parse_server(text)


# -- the tunnel -------------------------------------------------------------------------------

def test_all_five_ports_are_tunnelled_through_one_ssh_process(sshd, km):
    tunnel = tunnel_to_kernel(km.info, sshd.server, str(sshd.key), ssh_options=sshd.ssh_options)
    try:
        local = [getattr(tunnel.info, f"{ch}_port") for ch in CHANNELS]
        remote = [getattr(km.info, f"{ch}_port") for ch in CHANNELS]
        assert not set(local) & set(remote)
        assert sorted(p for _ip, p in listening_tcp_sockets(tunnel.process.pid)) == sorted(local)
        assert all(ip == "127.0.0.1" for ip, _p in listening_tcp_sockets(tunnel.process.pid))
        path = tunnel.write_connection_file()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        saved = json.loads(path.read_text())
        assert saved["key"] == km.info.key and saved[PROCESS_FIELD]["pid"] == tunnel.process.pid
        kc = KernelClient.from_connection_file(path)
        try:
            kc.wait_for_ready(timeout=60)
            out = []
            reply = kc.execute_interactive("import os; print(os.getpid())", timeout=60, output_hook=out.append)
            assert reply["content"]["status"] == "ok"
            printed = "".join(m["content"]["text"] for m in out if m["msg_type"] == "stream")
            assert printed.strip() == str(km.process.pid)
        finally:
            kc.stop_channels()
    finally:
        tunnel.close()
    assert process_gone(tunnel.process.pid) and not path.exists()


def test_qtapp_existing_with_ssh_works_like_a_local_kernel(qtbot, tmp_path, sshd, km):
    app, exits = _app(tmp_path, "--existing", str(km.connection_file), *_ssh_args(sshd))
    window = app.open_window()
    qtbot.addWidget(window)
    console = window.console
    qtbot.waitUntil(lambda: console.is_ready and console.controller.next_count is not None, timeout=TIMEOUT_MS)
    remote = console.lifecycle.connector
    tunnel = remote.tunnel
    assert tunnel is not None and tunnel.alive
    local_file = console.client.connection_file
    assert local_file == tunnel.connection_file and local_file != km.connection_file
    assert local_file.name.startswith("kernel-ssh-127.0.0.1-") and local_file.name in window.kernel_label.text()
    assert stat.S_IMODE(local_file.stat().st_mode) == 0o600
    run(qtbot, console, "import os; print(os.getpid())")
    assert str(km.process.pid) in console.plain_text().splitlines()
    # a second tab on the same kernel shares the tunnel
    window.actions["new_tab_same_kernel"].trigger()
    second = window.console
    qtbot.waitUntil(lambda: second.is_ready and second.controller.next_count is not None, timeout=TIMEOUT_MS)
    assert remote.tunnel is tunnel and second.client.connection_file == local_file
    assert run(qtbot, second, "1 + 1")["content"]["status"] == "ok"
    window.tabs.setCurrentWidget(console)
    window.actions["close_tab"].trigger()
    assert tunnel.alive  # the other tab still uses it
    assert run(qtbot, second, "2 + 2")["content"]["status"] == "ok"
    window.close()
    wait_until(lambda: process_gone(tunnel.process.pid), timeout=30, what="ssh to end with its console")
    assert not local_file.exists() and km.is_alive() and not exits


def test_a_restart_asked_through_the_tunnel_is_followed_with_the_new_key(qtbot, tmp_path, sshd):
    from kernel.manager import KernelManager
    owner = KernelManager(autorestart=True)  # restarts the kernel when asked over the wire
    owner.start()
    try:
        app, exits = _app(tmp_path, "--no-confirm-restart", "--existing", str(owner.connection_file),
                          *_ssh_args(sshd))
        window = app.open_window()
        qtbot.addWidget(window)
        console = window.console
        qtbot.waitUntil(lambda: console.is_ready and console.controller.next_count is not None, timeout=TIMEOUT_MS)
        run(qtbot, console, "before = 1")
        old_key, pid = owner.info.key, owner.process.pid
        window.actions["restart"].trigger()
        qtbot.waitUntil(lambda: owner.process.pid != pid, timeout=TIMEOUT_MS)
        qtbot.waitUntil(lambda: "Kernel restarted" in console.plain_text(), timeout=TIMEOUT_MS)
        qtbot.waitUntil(lambda: console.is_ready and console.controller.next_count == 1, timeout=TIMEOUT_MS)
        assert owner.info.key != old_key
        assert console.client.session.key == owner.info.key.encode()
        assert json.loads(console.client.connection_file.read_text())["key"] == owner.info.key
        assert run(qtbot, console, "before")["content"]["ename"] == "NameError"
        window.close()
    finally:
        owner.shutdown(now=True)


# -- errors ----------------------------------------------------------------------------------------------

def _failure(qtbot, app):
    window = app.open_window()
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: getattr(window, "error_dialog", None) is not None and window.error_dialog.isVisible(),
                    timeout=TIMEOUT_MS)
    return window, window.error_dialog


def _fails_without_hanging(qtbot, app):
    """The failure dialog, shown within 30 s while the window stayed live."""
    probe = StallProbe().start()
    started = time.monotonic()
    _window, box = _failure(qtbot, app)
    elapsed = time.monotonic() - started
    probe.stop()
    assert box.windowTitle() == "Cannot reach the kernel"
    assert elapsed < 30 and probe.worst_stall_ms < 1000
    return box


def test_an_unreachable_host_is_a_clear_error_without_hanging(qtbot, tmp_path, sshd, km):
    from sshd import _free_port
    nobody = _free_port()
    app, exits = _app(tmp_path, "--existing", str(km.connection_file), "--ssh", f"{sshd.user}@127.0.0.1:{nobody}",
                      "--sshkey", str(sshd.key))
    box = _fails_without_hanging(qtbot, app)
    assert f"cannot reach 127.0.0.1: connection refused on port {nobody}" in box.text()
    box.accept()
    qtbot.waitUntil(lambda: exits == [1], timeout=TIMEOUT_MS)


def test_an_unknown_host_name_is_a_clear_error_without_hanging(qtbot, tmp_path, sshd, km):
    app, exits = _app(tmp_path, "--existing", str(km.connection_file), "--ssh", f"{sshd.user}@nonexistent.invalid",
                      "--sshkey", str(sshd.key))
    box = _fails_without_hanging(qtbot, app)
    assert "cannot reach nonexistent.invalid: the host name is not known" in box.text()
    assert "Could not resolve hostname nonexistent.invalid" in box.detailedText()
    assert not _ssh_children(os.getpid())
    box.accept()
    qtbot.waitUntil(lambda: exits == [1], timeout=TIMEOUT_MS)


def test_a_refused_key_is_a_clear_error(qtbot, tmp_path, sshd, km):
    app, exits = _app(tmp_path, "--existing", str(km.connection_file), *_ssh_args(sshd, key=sshd.other_key))
    window, box = _failure(qtbot, app)
    assert f"refused the login with the key {sshd.other_key} (permission denied)" in box.text()
    assert "Permission denied" in box.detailedText()
    box.accept()


def test_an_unknown_host_key_is_a_clear_error(qtbot, tmp_path, sshd, km):
    app, exits = _app(tmp_path, "--existing", str(km.connection_file), "--ssh", sshd.server,
                      "--sshkey", str(sshd.key), "--ssh-option", "UserKnownHostsFile=/dev/null",
                      "--ssh-option", "GlobalKnownHostsFile=/dev/null")
    window, box = _failure(qtbot, app)
    assert "the host key of 127.0.0.1 is not known here" in box.text()
    box.accept()


def test_a_kernel_not_answering_through_the_tunnel_is_a_clear_error_in_time(qtbot, tmp_path, sshd):
    gone = write_connection_file(tmp_path / "kernel-gone.json", new_connection_info())  # nothing listens there
    from kernel.connect import read_connection_file
    remote = RemoteKernel(read_connection_file(gone), sshd.server, str(sshd.key), ssh_options=sshd.ssh_options,
                          source=gone, kernel_timeout=3)
    from qtapp import ConsoleWidget
    console = ConsoleWidget(connector=remote, start=False)
    qtbot.addWidget(console)
    probe = StallProbe().start()
    with qtbot.waitSignal(console.start_failed, timeout=TIMEOUT_MS) as blocker:
        console.controller.start()
    probe.stop()
    reason = blocker.args[0]
    assert "works, but the kernel does not answer through it within 3 s" in reason
    assert "Connection refused" in reason  # what ssh said when it tried the kernel's port
    assert "Cannot reach the kernel" in console.plain_text()
    assert probe.worst_stall_ms < 1000
    assert remote.tunnel is None and not _ssh_children(os.getpid())  # no tunnel left behind


def test_ssh_without_existing_is_refused(qtbot, tmp_path, sshd):
    app, exits = _app(tmp_path, "--ssh", sshd.server)
    assert app.open_window() is None
    assert "--ssh needs --existing FILE" in app.error_dialog.text()
    app.error_dialog.accept()


# -- the tunnel ends with the console ---------------------------------------------------------------------

def test_the_tunnel_ends_when_the_console_process_is_killed(sshd, km, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    app = AppProcess([sys.executable, "-m", "qtapp", "--debug", "--settings", str(tmp_path / "s.ini"),
                      "--existing", str(km.connection_file), *_ssh_args(sshd)], env, cwd=REPO)
    proc = app.proc
    try:
        app.wait_for_line("console ready: In [", timeout=60)
        tunnels = _ssh_children(proc.pid)
        assert len(tunnels) == 1
        local_file = next(Path(p) for p in Path(km.connection_file).parent.glob("kernel-ssh-*.json")
                          if json.loads(Path(p).read_text())[PROCESS_FIELD]["pid"] == tunnels[0])
        proc.kill()  # no chance to clean up
        proc.wait(30)
        wait_until(lambda: process_gone(tunnels[0]), timeout=30, what="ssh to follow its dead console")
        assert km.is_alive()
        # its connection file names the ssh process, so the next start sweeps it
        assert process_is_gone(json.loads(local_file.read_text())[PROCESS_FIELD])
        assert local_file in sweep_stale_connection_files()
    finally:
        for pid in _ssh_children(proc.pid):
            os.kill(pid, signal.SIGTERM)
        app.kill()
