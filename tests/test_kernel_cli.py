"""``python -m kernel`` as a newcomer would type it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import listening_tcp_sockets, start_kernel_process, wait_until
from kernel.client import KernelClient
from kernel.connect import PORT_FIELDS, jupyter_runtime_dir, new_connection_info, write_connection_file
from kernel.manager import KernelManager

REPO = Path(__file__).resolve().parent.parent


def _first_lines(proc, n=2, timeout=60) -> str:
    lines = []
    for _ in range(n):
        lines.append(proc.stdout.readline().decode())
    return "".join(lines)


def test_without_arguments_writes_a_file_and_says_how_to_attach():
    proc = start_kernel_process([])
    try:
        text = _first_lines(proc)
        m = re.search(r"To connect another client to this kernel, use:\s+--existing (kernel-[\w-]+\.json)", text)
        assert m, text
        path = jupyter_runtime_dir() / m.group(1)
        assert path.exists() and (os.stat(path).st_mode & 0o777) == 0o600
        kc = KernelClient.from_connection_file(path)
        kc.wait_for_ready(timeout=60)
        assert kc.execute_interactive("1", timeout=60)["content"]["status"] == "ok"
        kc.shutdown()
        proc.wait(30)
        kc.stop_channels()
        assert proc.returncode == 0
        assert not path.exists()  # the kernel wrote it, the kernel removes it
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def start_on_given_file(path, key=None, args=()):
    """Start a kernel on a file we wrote, retrying if a chosen port was taken
    meanwhile (the kernel then exits with EXIT_PORTS_TAKEN)."""
    from kernel.app import EXIT_PORTS_TAKEN

    for _ in range(5):
        info = new_connection_info()
        if key is not None:
            info.key = key
        write_connection_file(path, info)
        proc = start_kernel_process(["-f", str(path), *args])
        kc = KernelClient.from_connection_file(path, allow_insecure=key == "")
        kc.start_channels()
        while True:
            try:
                kc.wait_for_ready(timeout=1)
                return info, proc, kc
            except TimeoutError:
                if proc.poll() is not None:
                    break
        kc.stop_channels()
        assert proc.returncode == EXIT_PORTS_TAKEN, proc.stderr.read().decode()
    raise AssertionError("no free ports after 5 attempts")


def test_existing_file_is_used_and_left_in_place(tmp_path):
    path = tmp_path / "given.json"
    info, proc, kc = start_on_given_file(path)
    try:
        assert kc.info.shell_port == info.shell_port
        kc.shutdown()
        proc.wait(30)
        kc.stop_channels()
        assert path.exists()  # whoever wrote it cleans it up
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("change,message", [
    (lambda d: d.update(key=""), "key is empty"),
    (lambda d: d.update(signature_scheme="hmac-nonsense"), "unsupported signature_scheme"),
    (lambda d: d.pop("hb_port"), "missing field 'hb_port'"),
])
def test_bad_connection_files_are_refused_at_start(tmp_path, change, message):
    d = new_connection_info().to_dict()
    change(d)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(d))
    os.chmod(path, 0o600)
    proc = start_kernel_process(["-f", str(path)])
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert message in err.decode()


def test_empty_key_runs_only_with_insecure_flag_and_warns(tmp_path):
    _, proc, kc = start_on_given_file(tmp_path / "open.json", key="", args=["--insecure"])
    try:
        kc.shutdown()
        proc.wait(30)
        kc.stop_channels()
        assert "NOT signed" in proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_non_loopback_ip_listens_there_on_all_five_ports_and_warns(tmp_path):
    path = tmp_path / "k.json"
    proc = start_kernel_process(["-f", str(path), "--ip", "0.0.0.0"])
    try:
        wait_until(path.exists, what="connection file")
        kc = KernelClient.from_connection_file(path)
        kc.info.ip = "127.0.0.1"
        kc.wait_for_ready(timeout=60)
        ports = [getattr(kc.info, f) for f in PORT_FIELDS]
        assert sorted(listening_tcp_sockets(proc.pid)) == sorted(("0.0.0.0", p) for p in ports)
        kc.shutdown()
        proc.wait(30)
        kc.stop_channels()
        assert "signed but NOT encrypted" in proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_kernel_exits_when_its_parent_dies(tmp_path):
    path = tmp_path / "orphan.json"
    parent = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    proc = start_kernel_process(["-f", str(path)], env={"JPY_PARENT_PID": str(parent.pid)})
    try:
        wait_until(path.exists, what="connection file")
        kc = KernelClient.from_connection_file(path)
        kc.wait_for_ready(timeout=60)
        kc.stop_channels()
        parent.kill()
        parent.wait()
        proc.wait(10)  # the issue asks for 3 s; allow a loaded machine some slack
        assert "parent process" in proc.stderr.read().decode()
        assert not path.exists()
    finally:
        for p in (parent, proc):
            if p.poll() is None:
                p.kill()
                p.wait()


def test_install_writes_a_kernelspec_jupyter_can_use(tmp_path):
    out = subprocess.run([sys.executable, "-m", "kernel", "install", "--prefix", str(tmp_path), "--name", "mine"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    spec = json.loads((tmp_path / "share/jupyter/kernels/mine/kernel.json").read_text())
    assert spec["argv"][-4:] == ["-m", "kernel", "-f", "{connection_file}"]
    assert Path(spec["argv"][0]).exists()
    assert spec["language"] == "python" and spec["interrupt_mode"] == "signal"


def _install_user(home: Path, env: dict) -> subprocess.CompletedProcess:
    home.mkdir(exist_ok=True)
    full_env = {k: v for k, v in os.environ.items() if k not in ("JUPYTER_DATA_DIR", "XDG_DATA_HOME")}
    full_env.update(HOME=str(home), **env)
    out = subprocess.run([sys.executable, "-m", "kernel", "install", "--user"], env=full_env, cwd=home,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out


def test_install_user_writes_a_kernelspec_that_runs_this_kernel(tmp_path):
    out = _install_user(tmp_path, {})
    dest = tmp_path / ".local/share/jupyter/kernels/qtapp"
    assert str(dest) in out.stdout
    spec = json.loads((dest / "kernel.json").read_text())
    assert spec["argv"] == [sys.executable, "-m", "kernel", "-f", "{connection_file}"]
    assert spec["display_name"] == "Python 3 (qtapp)"
    assert spec["language"] == "python" and spec["interrupt_mode"] == "signal"
    km = KernelManager(kernel_cmd=spec["argv"], cwd=str(tmp_path))
    km.start()
    try:
        kc = km.client()
        assert kc.wait_for_ready(timeout=60)["content"]["implementation"] == "qtapp-kernel"
        kc.stop_channels()
    finally:
        km.shutdown()


@pytest.mark.parametrize("variable,subdir", [("JUPYTER_DATA_DIR", "kernels"), ("XDG_DATA_HOME", "jupyter/kernels")])
def test_install_user_honours_the_data_dir_variables(tmp_path, variable, subdir):
    _install_user(tmp_path / "home", {variable: str(tmp_path / "data")})
    assert (tmp_path / "data" / subdir / "qtapp" / "kernel.json").is_file()
    assert not (tmp_path / "home" / ".local").exists()


def _readme_recipe(first_line: str) -> str:
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    [block] = [b for b in blocks if b.startswith(first_line)]
    return block


def test_readme_recipe_that_starts_and_owns_a_kernel_runs_as_written():
    code = _readme_recipe("from kernel import KernelManager\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert sys.version in out.stdout


def test_readme_recipe_that_drives_a_running_kernel_runs_as_written(km):
    code = _readme_recipe("from kernel import KernelClient, find_connection_file\n")
    fragment = km.connection_file.name[len("kernel-"):][:8]
    assert '"1f0c"' in code
    out = subprocess.run([sys.executable, "-c", code.replace('"1f0c"', repr(fragment))], cwd=REPO,
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["a = 5 -> ok", "b = 0 -> ok", "c = a / b -> error"]
    assert "ZeroDivisionError" in out.stderr


def test_help_and_version():
    out = subprocess.run([sys.executable, "-m", "kernel", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--connection-file" in out.stdout and "install" in out.stdout
    out = subprocess.run([sys.executable, "-m", "kernel", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and re.search(r"\d+\.\d+", out.stdout)


def test_console_script_matches_python_m_kernel():
    exe = Path(sys.executable).with_name("qtapp-kernel")
    if not exe.exists():
        pytest.skip("the qtapp-kernel console script is not installed in this environment")
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--connection-file" in out.stdout
