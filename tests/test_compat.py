"""Wire compatibility with the Jupyter ecosystem's own implementations.

jupyter_client and ipykernel are test extras: where they are absent these
tests are skipped and say why.
"""

from __future__ import annotations

import pytest

from helpers import iopub_until_idle, shell_reply, stdout_of, strip_ansi


def _ipykernel_available() -> bool:
    try:
        import ipykernel  # noqa: F401
    except ImportError:
        return False
    from kernel.kernelspec import find_kernel_specs

    return "python3" in find_kernel_specs()


needs_ipykernel = pytest.mark.skipif(not _ipykernel_available(),
                                     reason="ipykernel (with its python3 kernelspec) is not installed")


@pytest.fixture
def ipykernel_client():
    from kernel.manager import KernelManager

    km = KernelManager(kernel_name="python3")
    km.start()
    kc = km.client()
    try:
        kc.wait_for_ready(timeout=120)
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown()


@needs_ipykernel
def test_our_client_drives_ipykernel(ipykernel_client):
    km, kc = ipykernel_client
    reply = kc.kernel_info_reply["content"]
    assert reply["implementation"] == "ipython"

    msg_id = kc.execute("print('hello from ipykernel'); 6*7")
    assert shell_reply(kc, msg_id, 120)["content"]["status"] == "ok"
    msgs = iopub_until_idle(kc, msg_id, 120)
    assert stdout_of(msgs) == "hello from ipykernel\n"
    assert [m["content"]["data"]["text/plain"] for m in msgs if m["msg_type"] == "execute_result"] == ["42"]

    c = shell_reply(kc, kc.complete("import o", 8), 120)["content"]
    assert "os" in c["matches"]

    c = shell_reply(kc, kc.inspect("print", 5, 0), 120)["content"]
    assert c["found"] and "print" in strip_ansi(c["data"]["text/plain"])

    msg_id = kc.execute("name = input('who? '); print('hi', name)")
    req = kc.get_stdin_msg(timeout=120)
    assert req["content"]["prompt"] == "who? "
    kc.input("ipy", parent=req["header"])
    assert shell_reply(kc, msg_id, 120)["content"]["status"] == "ok"
    assert stdout_of(iopub_until_idle(kc, msg_id, 120)) == "hi ipy\n"

    msg_id = kc.execute("print('spinning', flush=True)\nwhile True: pass")
    while kc.get_iopub_msg(timeout=120)["msg_type"] != "stream":
        pass  # user code is running once its first output arrives
    km.interrupt()
    assert shell_reply(kc, msg_id, 120)["content"]["status"] == "error"


@pytest.fixture
def jupyter_client_on_our_kernel(km):
    jc = pytest.importorskip("jupyter_client", reason="jupyter_client is not installed")
    client = jc.BlockingKernelClient(connection_file=str(km.connection_file))
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        yield client
    finally:
        client.stop_channels()


def test_jupyter_client_drives_our_kernel(jupyter_client_on_our_kernel):
    jc = jupyter_client_on_our_kernel
    outputs = []
    reply = jc.execute_interactive("print('hello from ours'); 6*7", timeout=60, output_hook=outputs.append)
    assert reply["content"]["status"] == "ok"
    assert stdout_of(outputs) == "hello from ours\n"
    assert any(m["msg_type"] == "execute_result" and m["content"]["data"]["text/plain"] == "42" for m in outputs)

    reply = jc.complete("import o", 8, reply=True, timeout=60)
    assert "os" in reply["content"]["matches"]

    reply = jc.inspect("print", 5, 0, reply=True, timeout=60)
    assert reply["content"]["found"]

    msg_id = jc.is_complete("for x in y:")
    reply = jc.get_shell_msg(timeout=60)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"] == {"status": "incomplete", "indent": "    "}

    def answer(msg):
        jc.input("jc")

    outputs.clear()
    reply = jc.execute_interactive("print('got', input('? '))", timeout=60, stdin_hook=answer,
                                   output_hook=outputs.append)
    assert reply["content"]["status"] == "ok"
    assert stdout_of(outputs) == "got jc\n"

    reply = jc.history(hist_access_type="tail", n=2, reply=True, timeout=60)
    assert len(reply["content"]["history"]) == 2


def test_jupyter_client_validates_our_messages(km):
    """jupyter_client's own Session parses and verifies everything we send."""
    jc = pytest.importorskip("jupyter_client")
    from jupyter_client.session import Session as JSession

    kc = km.client()
    kc.wait_for_ready(timeout=60)
    try:
        js = JSession(key=km.info.key.encode(), signature_scheme=km.info.signature_scheme)
        msg_id = kc.execute("print('x')")
        frames = []
        while True:
            raw = kc.iopub_channel.socket.recv_multipart()
            idents, rest = js.feed_identities(raw)
            msg = js.deserialize(rest)
            frames.append(msg["msg_type"])
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status" \
                    and msg["content"]["execution_state"] == "idle":
                break
        assert "execute_input" in frames and "stream" in frames
    finally:
        kc.stop_channels()
