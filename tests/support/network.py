"""Loopback endpoints that misbehave at the TCP level: one that refuses, one that hangs."""

from __future__ import annotations

import socket


def closed_loopback_url() -> str:
    """An http URL on a loopback port nothing listens on: connections are refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class SilentServer:
    """Listens on loopback and never accepts: the kernel completes each connection and
    takes the request, and no answer ever comes (a hung dependency). ``close()`` resets
    every waiting connection; later ones are refused."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=32)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def close(self) -> None:
        self._listener.close()
