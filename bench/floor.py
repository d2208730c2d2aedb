"""The floor: a raw DEALER/ROUTER round trip with HMAC-SHA256 and JSON in
Python, the least any Python kernel on this machine can take per request."""

from __future__ import annotations

import multiprocessing as mp
import time

import zmq

from kernel.wire import Session

KEY = b"0123456789abcdef" * 4
WARM_UP = 50


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


class Floor:
    """An echo server in its own process and a client for it; a context manager."""

    def __enter__(self) -> "Floor":
        spawn = mp.get_context("spawn")
        q = spawn.Queue()
        self.proc = spawn.Process(target=_echo_server, args=(q,), daemon=True)
        self.proc.start()
        port = q.get(timeout=60)
        self.ctx = zmq.Context()
        self.session = Session(KEY)
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.linger = 0
        self.sock.connect(f"tcp://127.0.0.1:{port}")
        self.round_trips(WARM_UP)
        return self

    def round_trips(self, n: int) -> list:
        """``n`` round trips, in ms."""
        session, sock = self.session, self.sock
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            sock.send_multipart(session.serialize(session.msg("echo_request", {"code": "pass"})))
            session.deserialize(sock.recv_multipart())
            out.append((time.perf_counter() - t0) * 1000)
        return out

    def __exit__(self, *exc) -> None:
        try:
            self.sock.send_multipart(self.session.serialize(self.session.msg("stop_request")))
        finally:
            self.proc.join(10)
            if self.proc.is_alive():
                self.proc.kill()
            self.sock.close()
            self.ctx.term()


def round_trips(n: int) -> list:
    with Floor() as floor:
        return floor.round_trips(n)
