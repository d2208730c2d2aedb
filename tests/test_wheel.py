"""`python -m build` makes a wheel that carries the desktop resources; installed
into a fresh virtual environment, it gives a working `qtapp` (which installs
its desktop entry from the wheel's own files and opens a console on its own
kernel) and a working `qtapp-kernel`.

Run by `make test-desktop`: building and installing take a while and need
the package index.
"""

from __future__ import annotations

import email
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from desktop_helpers import AppProcess
from helpers import run, stdout_of, wait_until
from kernel._version import __version__
from kernel.client import KernelClient
from qtapp.desktop import exec_split, parse_entry
from qtapp.icons import ICON_SIZES, KERNEL_LOGO_SIZES

pytestmark = pytest.mark.desktop

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    build = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], capture_output=True,
                           text=True, timeout=600)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    assert "WARNING" not in build.stdout + build.stderr, (build.stdout + build.stderr)[-3000:]
    wheels = list(out.glob("qtapp-*.whl"))
    assert len(wheels) == 1 and list(out.glob("qtapp-*.tar.gz"))
    return wheels[0]


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment (no system site-packages) with only the wheel installed."""
    root = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=300)
    install = subprocess.run([str(root / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
                             capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    return root


def test_the_wheel_carries_the_resources_and_both_commands(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta = email.message_from_bytes(zf.read(f"qtapp-{__version__}.dist-info/METADATA"))
        entry_points = zf.read(f"qtapp-{__version__}.dist-info/entry_points.txt").decode()
    for path in ["qtapp/resources/qtapp.desktop", "qtapp/resources/qtapp.svg",
                 *[f"qtapp/resources/icons/hicolor/{s}x{s}/apps/qtapp.png" for s in ICON_SIZES],
                 *[f"qtapp/resources/logo-{s}x{s}.png" for s in KERNEL_LOGO_SIZES]]:
        assert path in names, path
    assert not any(n.startswith(("tests/", "bench/", "resources/")) for n in names)
    assert "qtapp = qtapp.__main__:main" in entry_points and "qtapp-kernel = kernel.__main__:main" in entry_points
    requires = meta.get_all("Requires-Dist")
    assert 'tomli>=1.1; python_version < "3.11"' in requires
    assert any(r.startswith("PyQt5") for r in requires)


def test_the_installed_qtapp_runs_and_installs_its_desktop_entry(venv, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "PYTHONPATH")}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    qtapp = venv / "bin" / "qtapp"
    version = subprocess.run([str(qtapp), "--version"], capture_output=True, text=True, env=env, timeout=120,
                             cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.splitlines()[0] == f"qtapp {__version__}", version.stderr
    out = subprocess.run([str(qtapp), "--install-desktop"], capture_output=True, text=True, env=env, timeout=120,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    entry = parse_entry((tmp_path / "data/applications/qtapp.desktop").read_text())["Desktop Entry"]
    assert exec_split(entry["Exec"]) == [str(qtapp)]
    assert (tmp_path / "data/icons/hicolor/48x48/apps/qtapp.png").stat().st_size > 0

    env["QT_QPA_PLATFORM"] = "offscreen"
    app = AppProcess([str(qtapp), "--debug", "--settings", str(tmp_path / "w.ini"),
                      "--config", str(tmp_path / "c.toml")], env, cwd=tmp_path)
    try:
        started = app.wait_for_line("started kernel pid")
        assert f"{venv}/bin/python -m kernel" in started  # the wheel's kernel, not the source tree's
        app.wait_for_line("console ready: In [1]:")
        assert app.stop() == 0
    finally:
        app.kill()


def test_the_installed_qtapp_kernel_serves_a_client(venv, tmp_path):
    connection = tmp_path / "kernel.json"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.Popen([str(venv / "bin" / "qtapp-kernel"), "-f", str(connection)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    kc = None
    try:
        wait_until(lambda: connection.exists() and json.loads(connection.read_text() or "{}").get("key"),
                   timeout=60, what="the kernel's connection file")
        kc = KernelClient.from_connection_file(connection)
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        reply, msgs = run(kc, "import kernel, sys\nprint(kernel.__file__)\nprint(sys.prefix)")
        assert reply["content"]["status"] == "ok"
        kernel_file, prefix = stdout_of(msgs).split()
        assert kernel_file.startswith(str(venv)) and Path(prefix) == venv
        kc.shutdown()
        assert proc.wait(30) == 0
    finally:
        if kc is not None:
            kc.stop_channels()
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
