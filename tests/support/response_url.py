"""A local stand-in for CloudFormation's pre-signed ResponseURL: records every PUT."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class RecordedPut:
    path: str
    headers: dict[str, str]
    raw_headers: list[tuple[str, str]]
    body: bytes
    answered_status: int

    @property
    def document(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


class ResponseUrlServer:
    """Serves on loopback; ``fail_next(500)`` scripts the next answers' statuses."""

    def __init__(self) -> None:
        self.puts: list[RecordedPut] = []
        self._scripted: list[int] = []
        self._lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with recorder._lock:
                    status = recorder._scripted.pop(0) if recorder._scripted else 200
                    recorder.puts.append(
                        RecordedPut(
                            path=self.path,
                            headers={k.lower(): v for k, v in self.headers.items()},
                            raw_headers=list(self.headers.items()),
                            body=body,
                            answered_status=status,
                        )
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> ResponseUrlServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, name: str = "response") -> str:
        host, port = self._server.server_address[:2]
        # Shaped like the real thing: a signed query string that must never be logged.
        return f"http://{host}:{port}/{name}?X-Amz-Signature=secret-signature-value"

    def fail_next(self, *statuses: int) -> None:
        with self._lock:
            self._scripted.extend(statuses)

    def reset(self) -> None:
        with self._lock:
            self.puts.clear()
            self._scripted.clear()

    @property
    def accepted(self) -> list[RecordedPut]:
        return [put for put in self.puts if 200 <= put.answered_status < 300]
