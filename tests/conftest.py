"""Shared fixtures: isolated Jupyter/IPython dirs, real kernels, leak checks.

Every kernel a test starts lives in this session's private runtime
directory, so at the end any process still mentioning that directory is a
leaked kernel: it is killed and the session fails.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import pytest

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="qtapp-tests-"))
os.environ["JUPYTER_RUNTIME_DIR"] = str(_SESSION_DIR / "runtime")
os.environ["JUPYTER_DATA_DIR"] = str(_SESSION_DIR / "data")
os.environ["JUPYTER_CONFIG_DIR"] = str(_SESSION_DIR / "config")
os.environ["IPYTHONDIR"] = str(_SESSION_DIR / "ipython")
os.environ["MPLCONFIGDIR"] = str(_SESSION_DIR / "mpl")
os.environ["XDG_CONFIG_HOME"] = str(_SESSION_DIR / "xdg-config")
os.environ["XDG_STATE_HOME"] = str(_SESSION_DIR / "xdg-state")
os.environ["XDG_DATA_HOME"] = str(_SESSION_DIR / "xdg-data")
os.environ["XDG_RUNTIME_DIR"] = str(_SESSION_DIR / "xdg-runtime")
os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = str(_SESSION_DIR / "hypothesis")  # nothing in the repo
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("JUPYTER_PATH", None)
for d in ("xdg-runtime",):
    (_SESSION_DIR / d).mkdir(mode=0o700, parents=True, exist_ok=True)

sys.path.insert(0, str(Path(__file__).parent))

from helpers import kernel_processes  # noqa: E402


@pytest.fixture(scope="session")
def session_dir() -> Path:
    return _SESSION_DIR


@pytest.fixture(scope="session", autouse=True)
def no_leaked_kernels():
    yield
    leaked = kernel_processes(_SESSION_DIR)
    for pid in leaked:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert not leaked, f"kernel processes left behind by the tests: {leaked}"


@pytest.fixture
def km():
    """A started kernel of ours, shut down after the test."""
    from kernel.manager import KernelManager

    manager = KernelManager()
    manager.start()
    yield manager
    manager.shutdown(now=True)


@pytest.fixture
def kc(km):
    """A ready client on ``km``."""
    client = km.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    yield client
    client.stop_channels()


@pytest.fixture(scope="module")
def shared_km():
    """One kernel for a module of tests that do not disturb each other."""
    from kernel.manager import KernelManager

    manager = KernelManager()
    manager.start()
    yield manager
    manager.shutdown(now=True)


@pytest.fixture
def skc(shared_km):
    client = shared_km.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    yield client
    client.stop_channels()


@pytest.fixture(scope="module")
def display():
    """The name of a private X server (Xvfb) for a module's tests; skipped without Xvfb."""
    from xvfb import SKIP_REASON, XVFB, xvfb_display

    if XVFB is None:
        pytest.skip(SKIP_REASON)
    with xvfb_display() as name:
        yield name


def pytest_sessionfinish(session, exitstatus):
    # Give kernels that are shutting down a moment, then report stragglers.
    deadline = time.monotonic() + 3
    while kernel_processes(_SESSION_DIR) and time.monotonic() < deadline:
        time.sleep(0.1)
