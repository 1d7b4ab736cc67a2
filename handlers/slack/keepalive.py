"""Web API calls over kept-alive connections: one per thread and host, reused while it is fresh.

slack_sdk's WebClient opens a new connection (a TCP and TLS handshake with Slack) for every call. Each
new case makes two calls and each follow-up one, so the handshakes were a large share of the work. This
client keeps the connection and reuses it for the next call from the same thread, with everything else
left to WebClient: the request it builds, the retry handlers, the errors it raises.

A kept connection is only reused while it is fresh (used in the last few seconds, nothing to read on it):
a server closes idle connections, and a request sent on a closed one cannot tell whether Slack acted on
it; that answer would be "maybe posted" and cost a history check.
"""

from __future__ import annotations

import http.client
import io
import select
import ssl
import threading
import time
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request

from slack_sdk import WebClient
from slack_sdk.errors import SlackRequestError

FRESH_SECONDS = 4.0  # far below any server's idle timeout (Slack's load balancers keep a minute or more)


class _Kept:
    def __init__(self, connection: http.client.HTTPConnection):
        self.connection = connection
        self.used = time.monotonic()

    def fresh(self) -> bool:
        sock = self.connection.sock
        if sock is None or time.monotonic() - self.used > FRESH_SECONDS:
            return False
        readable, _, _ = select.select([sock], [], [], 0)
        return not readable  # an idle connection with something to read was closed by the server


class KeepAliveClient(WebClient):
    """A WebClient whose calls reuse one connection per thread and host (none through a proxy)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._kept = threading.local()
        self._tls = self.ssl or ssl.create_default_context()

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        parts = urlsplit(url)
        if self.proxy is not None or parts.scheme not in ("http", "https"):
            return super()._perform_urllib_http_request_internal(url, req)
        key = (parts.scheme, parts.hostname or "", parts.port)
        kept = self._connection(key)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            try:
                kept.connection.request("POST", path, body=req.data, headers=dict(req.header_items()))
            except OSError as err:  # as urllib does: a failure before the request was sent is a URLError
                raise URLError(err) from err
            response = kept.connection.getresponse()
            body = response.read()
        except BaseException:
            self._forget(key)
            raise
        if response.will_close:
            self._forget(key)
        else:
            kept.used = time.monotonic()
        if not 200 <= response.status < 300:  # what urllib raises, and WebClient expects
            raise HTTPError(url, response.status, response.reason, response.headers, io.BytesIO(body))
        if response.headers.get_content_type() == "application/gzip":
            return {"status": response.status, "headers": response.headers, "body": body}
        charset = response.headers.get_content_charset() or "utf-8"
        return {"status": response.status, "headers": response.headers, "body": body.decode(charset)}

    def _connection(self, key: tuple[str, str, int | None]) -> _Kept:
        pool: dict[tuple[str, str, int | None], _Kept] = self._kept.__dict__.setdefault("pool", {})
        kept = pool.get(key)
        if kept is not None and kept.fresh():
            return kept
        if kept is not None:
            kept.connection.close()
        scheme, host, port = key
        if not host:
            raise SlackRequestError(f"Invalid URL detected: {scheme}://")
        if scheme == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                host, port, timeout=self.timeout, context=self._tls)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=self.timeout)
        pool[key] = kept = _Kept(connection)
        return kept

    def _forget(self, key: tuple[str, str, int | None]) -> None:
        kept = self._kept.__dict__.get("pool", {}).pop(key, None)
        if kept is not None:
            kept.connection.close()
