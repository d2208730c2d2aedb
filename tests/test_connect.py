"""Connection files: modes, validation, and finding them safely."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time

import pytest

from kernel.connect import (PROCESS_FIELD, ConnectionFileError, ConnectionInfo, find_connection_file,
                            jupyter_runtime_dir, new_connection_info, new_key, pick_free_ports, process_is_gone,
                            process_record, read_connection_file, sweep_stale_connection_files,
                            write_connection_file)

FIELDS = {"ip", "transport", "shell_port", "iopub_port", "stdin_port", "control_port", "hb_port",
          "key", "signature_scheme", "kernel_name"}


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_written_file_has_jupyter_fields_and_mode_0600_even_under_umask_000(tmp_path):
    old = os.umask(0)
    try:
        path = write_connection_file(tmp_path / "kernel-a.json", new_connection_info())
    finally:
        os.umask(old)
    assert mode(path) == 0o600
    data = json.loads(path.read_text())
    assert set(data) == FIELDS
    assert data["ip"] == "127.0.0.1" and data["transport"] == "tcp"
    assert data["signature_scheme"] == "hmac-sha256"
    assert not list(tmp_path.glob(".*tmp"))  # no temporary left behind


def test_runtime_dir_is_created_0700_and_tightened(tmp_path, monkeypatch):
    rd = tmp_path / "rt"
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(rd))
    old = os.umask(0)
    try:
        assert jupyter_runtime_dir() == rd
    finally:
        os.umask(old)
    assert mode(rd) == 0o700
    os.chmod(rd, 0o755)
    jupyter_runtime_dir()
    assert mode(rd) == 0o700


def test_runtime_dir_falls_back_to_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("JUPYTER_RUNTIME_DIR")
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    assert jupyter_runtime_dir() == tmp_path / "data" / "runtime"


def test_keys_are_256_bit_hex_and_fresh():
    keys = {new_key() for _ in range(100)}
    assert len(keys) == 100
    for k in keys:
        assert len(k) == 64 and int(k, 16) >= 0


def test_free_ports_are_distinct():
    ports = pick_free_ports(5)
    assert len(set(ports)) == 5 and all(0 < p < 65536 for p in ports)


def test_round_trip(tmp_path):
    info = new_connection_info(kernel_name="qtapp")
    back = read_connection_file(write_connection_file(tmp_path / "k.json", info))
    assert back == info
    assert back.url("shell") == f"tcp://127.0.0.1:{info.shell_port}"


def _write_raw(path, data, file_mode=0o600):
    path.write_text(json.dumps(data))
    os.chmod(path, file_mode)
    return path


def _valid():
    return new_connection_info().to_dict()


@pytest.mark.parametrize("change,message", [
    (lambda d: d.pop("shell_port"), "missing field 'shell_port'"),
    (lambda d: d.update(iopub_port=70000), "iopub_port must be a port number"),
    (lambda d: d.update(hb_port="5555"), "hb_port must be a port number"),
    (lambda d: d.update(signature_scheme="rot13"), "unsupported signature_scheme"),
    (lambda d: d.update(transport="udp"), "unknown transport"),
    (lambda d: d.update(key=""), "key is empty"),
])
def test_invalid_files_get_clear_errors(tmp_path, change, message):
    d = _valid()
    change(d)
    path = _write_raw(tmp_path / "k.json", d)
    with pytest.raises(ConnectionFileError) as err:
        read_connection_file(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_not_json_is_a_clear_error(tmp_path):
    path = tmp_path / "k.json"
    path.write_text("{nope")
    os.chmod(path, 0o600)
    with pytest.raises(ConnectionFileError, match="not valid JSON"):
        read_connection_file(path)


def test_empty_key_is_allowed_only_with_the_insecure_flag(tmp_path):
    d = _valid()
    d["key"] = ""
    path = _write_raw(tmp_path / "k.json", d)
    assert read_connection_file(path, allow_insecure=True).key == ""


def test_unknown_extra_fields_are_kept(tmp_path):
    d = _valid()
    d["jupyter_session"] = "/x.ipynb"
    info = read_connection_file(_write_raw(tmp_path / "k.json", d))
    assert info.to_dict()["jupyter_session"] == "/x.ipynb"


@pytest.fixture
def runtime(tmp_path):
    rd = tmp_path / "runtime"
    rd.mkdir(mode=0o700)
    return rd


def _make(rd, name, age=0.0):
    path = write_connection_file(rd / name, new_connection_info())
    t = time.time() - age
    os.utime(path, (t, t))
    return path


def test_find_newest_by_default(runtime):
    _make(runtime, "kernel-old.json", age=100)
    newest = _make(runtime, "kernel-new.json")
    assert find_connection_file(runtime_dir=runtime) == newest


def test_find_exact_name_with_or_without_json(runtime):
    target = _make(runtime, "kernel-6759.json", age=100)
    _make(runtime, "kernel-other.json")
    assert find_connection_file("kernel-6759.json", runtime) == target
    assert find_connection_file("kernel-6759", runtime) == target


def test_find_by_fragment(runtime):
    target = _make(runtime, "kernel-6759.json", age=100)
    _make(runtime, "kernel-1234.json")
    assert find_connection_file("6759", runtime) == target


def test_find_explicit_path(tmp_path, runtime):
    elsewhere = _make(tmp_path, "mine.json")
    assert find_connection_file(str(elsewhere), runtime) == elsewhere


def test_bare_name_never_resolves_in_the_current_directory(tmp_path, runtime, monkeypatch):
    _make(tmp_path, "kernel-trap.json")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConnectionFileError, match="no connection file matching"):
        find_connection_file("kernel-trap.json", runtime)
    assert find_connection_file("./kernel-trap.json", runtime).name == "kernel-trap.json"


def test_nothing_found_says_where_it_looked(runtime):
    with pytest.raises(ConnectionFileError) as err:
        find_connection_file("nosuch", runtime)
    assert str(runtime) in str(err.value)


@pytest.mark.parametrize("bad_mode", [0o644, 0o640, 0o602, 0o660])
def test_files_others_can_access_are_refused_with_the_reason(runtime, bad_mode):
    path = _make(runtime, "kernel-open.json")
    os.chmod(path, bad_mode)
    with pytest.raises(ConnectionFileError) as err:
        find_connection_file("open", runtime)
    assert "others can access" in str(err.value) and "chmod 600" in str(err.value)
    with pytest.raises(ConnectionFileError):
        read_connection_file(path)


@pytest.mark.skipif(os.getuid() != 0, reason="creating a file owned by another user needs root")
def test_files_of_another_owner_are_refused(runtime):
    path = _make(runtime, "kernel-theirs.json")
    os.chown(path, 4242, -1)
    with pytest.raises(ConnectionFileError, match="owned by another user"):
        find_connection_file("theirs", runtime)


def test_info_defaults_are_loopback():
    assert ConnectionInfo().ip == "127.0.0.1"


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_process_record_is_gone_only_when_that_is_certain():
    me = process_record(os.getpid())
    assert me["pid"] == os.getpid() and me["boot_id"] and me["start_time"]
    assert not process_is_gone(me)
    assert process_is_gone(dict(me, pid=_dead_pid()))
    assert process_is_gone(dict(me, start_time="1"))  # a live pid, but not the process recorded
    dead = _dead_pid()
    for elsewhere in ("host", "boot_id", "pid_ns"):  # a pid from elsewhere proves nothing here
        assert not process_is_gone(dict(me, pid=dead, **{elsewhere: "not-here"}))
    for junk in (None, [], {}, {"pid": "1"}, dict(me, pid=True), dict(me, pid=-1), dict(me, pid=0)):
        assert not process_is_gone(junk)


def test_the_sweep_removes_only_recorded_files_of_gone_processes(runtime):
    info = new_connection_info()
    untouched = [_make(runtime, "kernel-no-record.json")]
    info.extra[PROCESS_FIELD] = process_record(os.getpid())
    untouched.append(write_connection_file(runtime / "kernel-live.json", info))
    info.extra[PROCESS_FIELD] = dict(process_record(os.getpid()), pid=_dead_pid())
    stale = write_connection_file(runtime / "kernel-stale.json", info)
    untouched.append(write_connection_file(runtime / "other.json", info))  # not a kernel-*.json name
    assert sweep_stale_connection_files(runtime) == [stale]
    assert not stale.exists() and all(p.exists() for p in untouched)
