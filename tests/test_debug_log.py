"""--debug: debug messages on stderr and in a private log file in the XDG state
directory, saying where the kernel's connection file is."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time

from desktop_helpers import AppProcess
from qtapp.logsetup import KEEP_LOGS, log_dir, prune_logs


def test_debug_writes_stderr_and_a_private_log_file_naming_the_connection_file(tmp_path, session_dir):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_STATE_HOME=str(tmp_path / "state"))
    app = AppProcess([sys.executable, "-m", "qtapp", "--debug", "--settings", str(tmp_path / "w.ini"),
                      "--config", str(tmp_path / "config.toml")], env)
    try:
        announced = app.wait_for_line("debug log: ")
        connection = app.wait_for_line("kernel connection file: ")
        app.wait_for_line("console ready: In [1]:")
        assert app.stop() == 0
    finally:
        app.kill()
    logs = list((tmp_path / "state" / "qtapp").glob("qtapp-*.log"))
    assert len(logs) == 1 and str(logs[0]) in announced
    text = logs[0].read_text()
    path = connection.split("kernel connection file: ", 1)[1].strip()
    assert path.startswith(str(session_dir / "runtime")) and path.endswith(".json")
    assert f"kernel connection file: {path}" in text and "console ready: In [1]:" in text
    assert " DEBUG " in text  # debug level, with times
    assert stat.S_IMODE(logs[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(logs[0].parent.stat().st_mode) == 0o700


def test_without_debug_nothing_is_written(tmp_path):
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path))
    code = "from qtapp.logsetup import configure_logging; print(configure_logging(False))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.stdout.strip() == "None" and not any(tmp_path.iterdir())


def test_a_state_directory_that_cannot_be_written_is_reported_not_fatal(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    env = dict(os.environ, XDG_STATE_HOME=str(blocker))
    code = "from qtapp.logsetup import configure_logging; print(configure_logging(True))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "None"
    assert f"cannot write a debug log in {blocker / 'qtapp'}" in out.stderr


def test_only_the_newest_logs_are_kept(tmp_path):
    directory = log_dir({"XDG_STATE_HOME": str(tmp_path)})
    directory.mkdir(parents=True)
    now = time.time()
    for i in range(KEEP_LOGS + 5):
        path = directory / f"qtapp-run{i:02d}.log"
        path.write_text(str(i))
        os.utime(path, (now - 1000 + i, now - 1000 + i))
    (directory / "notes.txt").write_text("not a log")
    prune_logs(directory)
    kept = sorted(p.name for p in directory.glob("qtapp-*.log"))
    assert kept == [f"qtapp-run{i:02d}.log" for i in range(5, KEEP_LOGS + 5)]
    assert (directory / "notes.txt").exists()
