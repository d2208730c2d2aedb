"""The floor: a raw DEALER/ROUTER round trip with HMAC-SHA256 and JSON in
Python, the least any Python kernel on this machine can take per request."""

from __future__ import annotations

import multiprocessing as mp
import time

import zmq

from kernel.wire import Session

KEY = b"0123456789abcdef" * 4


def _echo_server(port_queue) -> None:
    ctx = zmq.Context()
    session = Session(KEY)
    sock = ctx.socket(zmq.ROUTER)
    port_queue.put(sock.bind_to_random_port("tcp://127.0.0.1"))
    while True:
        idents, msg = session.deserialize(sock.recv_multipart())
        if msg["msg_type"] == "stop_request":
            break
        sock.send_multipart(session.serialize(session.msg("echo_reply", {"status": "ok"}, parent=msg), idents))
    sock.close(0)
    ctx.term()


def round_trips(n: int) -> list:
    q = mp.get_context("spawn").Queue()
    proc = mp.get_context("spawn").Process(target=_echo_server, args=(q,), daemon=True)
    proc.start()
    port = q.get(timeout=60)
    ctx = zmq.Context()
    session = Session(KEY)
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(f"tcp://127.0.0.1:{port}")
    out = []
    try:
        for i in range(n + 50):
            t0 = time.perf_counter()
            sock.send_multipart(session.serialize(session.msg("echo_request", {"code": "pass"})))
            session.deserialize(sock.recv_multipart())
            if i >= 50:
                out.append((time.perf_counter() - t0) * 1000)
        sock.send_multipart(session.serialize(session.msg("stop_request")))
    finally:
        proc.join(10)
        if proc.is_alive():
            proc.kill()
        sock.close()
        ctx.term()
    return out
