"""Loopback HTTP server for the carrier's REST API (stdlib, one thread per request)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .rest import rest_handle

if TYPE_CHECKING:
    from .carrier import Carrier


class _Handler(BaseHTTPRequestHandler):
    server_version = "EmulatedCarrier/1.0"
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        response = rest_handle(
            self.server.carrier,  # type: ignore[attr-defined]
            method=self.command,
            path=parts.path,
            query=parts.query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        self.send_response(response.status)
        if response.body:
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.body:
            self.wfile.write(response.body)

    do_GET = do_POST = do_DELETE = do_PUT = _serve

    def log_message(self, format: str, *args) -> None:
        # Requests are recorded on the carrier; stderr noise would only hide test output.
        return


class _Server(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: a burst of REST requests (an app starting 50
    # legs at once) overflows it, and the kernel drops the SYNs, which clients resend only after
    # 1 s, 3 s... That is a stall of the fake carrier, not of the app, so make room for bursts.
    request_queue_size = 128


class RestServer:
    def __init__(self, carrier: Carrier, host: str = "127.0.0.1", port: int = 0) -> None:
        self._httpd = _Server((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.carrier = carrier  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="carrier-rest", daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
