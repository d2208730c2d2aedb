"""Output that reaches the kernel's file descriptors 1 and 2 directly
(commands, C code, forked children) is forwarded to the frontends as stream
output, before the cell's idle; the kernel's own log is not."""

from __future__ import annotations

import pytest

from helpers import iopub_until_idle, run, shell_reply, stdout_of
from kernel.kernelspec import own_kernel_argv
from kernel.manager import KernelManager


def test_commands_output_arrives_on_stdout_and_stderr(skc):
    reply, msgs = run(skc, "import os, subprocess\n"
                           "os.system('echo from os.system')\n"
                           "subprocess.run(['sh', '-c', 'echo to stdout; echo to stderr >&2'])\n"
                           "None")
    assert reply["content"]["status"] == "ok"
    out, err = stdout_of(msgs), stdout_of(msgs, "stderr")
    assert "from os.system\n" in out and "to stdout\n" in out and "to stderr\n" not in out
    assert err == "to stderr\n"


def test_what_python_printed_first_stays_first(skc):
    reply, msgs = run(skc, "import os\nprint('printed by Python')\nos.system('echo then a command')")
    assert stdout_of(msgs) == "printed by Python\nthen a command\n"


def test_output_of_c_code_arrives(skc):
    reply, msgs = run(skc, "import ctypes\n"
                           "libc = ctypes.CDLL(None)\n"
                           "libc.printf(b'printf from C: %d\\n', 42)\n"
                           "libc.fflush(None)\n"
                           "None")
    assert stdout_of(msgs) == "printf from C: 42\n"


def test_utf8_split_across_reads_and_invalid_bytes_are_shown(skc):
    # 100,000 two-byte characters: reads of the pipe end inside characters
    reply, msgs = run(skc, "import os\n"
                           "os.write(1, 'é'.encode() * 100_000)\n"
                           "os.write(2, b'bad \\xff byte\\n')\n"
                           "None")
    assert stdout_of(msgs) == "é" * 100_000
    assert stdout_of(msgs, "stderr") == "bad \ufffd byte\n"


def test_a_background_command_is_forwarded_after_its_cell(skc, tmp_path):
    flag = tmp_path / "go"
    reply, msgs = run(skc, "import subprocess\n"
                           f"subprocess.Popen(['sh', '-c', 'while [ ! -e {flag} ]; do sleep 0.01; done; "
                           "echo from the background'])\nNone")
    assert "from the background" not in stdout_of(msgs)
    flag.touch()
    while True:
        m = skc.get_iopub_msg(timeout=60)
        if m["msg_type"] == "stream" and "from the background" in m["content"]["text"]:
            break


def test_the_kernels_own_log_stays_out_of_the_frontends(km, kc):
    reply, msgs = run(kc, "import logging\nlogging.getLogger('kernel.app').warning('a kernel log line')")
    assert reply["content"]["status"] == "ok"
    assert "a kernel log line" not in stdout_of(msgs) + stdout_of(msgs, "stderr")
    assert "a kernel log line" in km.kernel_output()


def test_without_capture_commands_write_to_the_kernels_own_output():
    km = KernelManager(kernel_cmd=[*own_kernel_argv(), "--no-capture-fd"])
    km.start()
    kc = km.client()
    try:
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        msg_id = kc.execute("import os; os.system('echo not forwarded')")
        assert shell_reply(kc, msg_id)["content"]["status"] == "ok"
        assert "not forwarded" not in stdout_of(iopub_until_idle(kc, msg_id))
        assert "not forwarded" in km.kernel_output()
    finally:
        kc.stop_channels()
        km.shutdown()


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_closing_a_descriptor_leaves_the_kernel_working(kc, stream):
    fd = 1 if stream == "stdout" else 2
    reply, _ = run(kc, f"import os\nos.close({fd})")
    assert reply["content"]["status"] == "ok"
    reply, msgs = run(kc, "print('python output still works')")
    assert stdout_of(msgs) == "python output still works\n"
