"""Run an ASGI app under a real uvicorn server on a loopback port, in a thread of its own."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, Self

import uvicorn


def free_port() -> int:
    """A loopback port nobody is listening on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bound_socket() -> socket.socket:
    """A socket bound to a loopback port of its own, kept until the server using it stops."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class LiveServer:
    """A real HTTP server for tests: started in a thread, stopped cleanly, on 127.0.0.1 only."""

    def __init__(self, app: Any, port: int | None = None, **options: Any) -> None:
        # Without a port asked for, the socket is bound here and handed to uvicorn: a port merely found free
        # could be taken by another test process before uvicorn bound it ("address already in use").
        self.socket: socket.socket | None = None
        if port is None:
            self.socket = bound_socket()
            port = int(self.socket.getsockname()[1])
        self.port = port
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            **(
                {"log_level": "warning", "lifespan": "on", "timeout_keep_alive": 75, "proxy_headers": False}
                | options
            ),
        )
        self.server = uvicorn.Server(config)
        sockets = {"sockets": [self.socket]} if self.socket else {}
        self.thread = threading.Thread(target=self.server.run, kwargs=sockets, daemon=True)

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        """Start and wait until the server accepts connections (lifespan included)."""
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for its thread (lifespan shutdown included)."""
        self.server.should_exit = True
        self.thread.join(timeout=20)
        if self.socket is not None:
            self.socket.close()


class LoopbackService:
    """A fake platform: its ASGI `app` served on a loopback port between start() and stop()."""

    app: Any
    _server: LiveServer | None = None

    def start(self) -> Self:
        """Serve on a loopback port; returns self for chaining."""
        self._server = LiveServer(self.app).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.stop()

    @property
    def url(self) -> str:
        """The base URL to point Loa Bản at."""
        assert self._server is not None
        return self._server.url
