"""A private X server (Xvfb) for tests that need a real display (Tk)."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from contextlib import contextmanager
from typing import Iterator

XVFB = shutil.which("Xvfb")
SKIP_REASON = "Xvfb is not installed (apt-get install xvfb): Tk needs an X display for this test"


@contextmanager
def xvfb_display(timeout: float = 30.0) -> Iterator[str]:
    """Start Xvfb on a free display number and yield it (":N").

    Xvfb chooses the number and writes it to ``-displayfd`` once it accepts
    connections, so there is no guessing and no waiting on a clock."""
    if XVFB is None:
        raise RuntimeError(SKIP_REASON)
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [XVFB, "-displayfd", str(write_fd), "-screen", "0", "1280x1024x24", "-nolisten", "tcp", "-noreset"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    os.close(write_fd)
    try:
        number = b""
        deadline = time.monotonic() + timeout
        while not number.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_fd], [], [], left)[0]:
                raise RuntimeError(f"Xvfb did not start within {timeout:.0f} s")
            chunk = os.read(read_fd, 16)
            if not chunk:
                raise RuntimeError(f"Xvfb exited: {proc.stderr.read().decode(errors='replace')[-2000:]}")
            number += chunk
        yield f":{int(number)}"
    finally:
        os.close(read_fd)
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stderr.close()
