"""A minimal JSON-over-HTTP client on a kept-alive connection (stdlib only)."""

from __future__ import annotations

import http.client
import json
import os
import socket
from typing import Any, Optional, Tuple
from urllib.parse import urlsplit


USER_AGENT = "babysit-python"
API_KEY_ENV = "BABYSIT_API_KEY"


class TransportError(Exception):
    """The server could not be reached or did not answer in time: worth retrying later."""


class KeyRefused(TransportError):
    """A team server refused the API key (401: missing, unknown, revoked, expired). The data stays
    spooled, and `python -m babysit sync` replays it once BABYSIT_API_KEY holds a valid key: nothing
    is dropped for a key that can be fixed. Unlike a server that is away, waiting cannot help, so
    finish() and sync stop at once and say so (refusal()). (A 403, a key that may not write to the
        project, is kept the same way when it answers a batch (_transport.py); a refused create is one
    line and finish() does not wait for it either.)"""

    def __init__(self, why: str, missing: bool) -> None:
        super().__init__(why)
        self.why = why
        self.missing = missing  # no key was sent: nothing was "refused", one is needed

    def problem(self, base_url: str) -> str:
        """What is wrong and what to do, in one sentence for every message that reports it."""
        return refusal(base_url, self.why, self.missing)


def refusal(base_url: str, why: str, missing: bool) -> str:
    if missing:
        return ("the server at %s needs an API key (%s) and %s is not set: make a key on the server's /account page, "
                "set %s to it, then run `python -m babysit sync`" % (base_url, why, API_KEY_ENV, API_KEY_ENV))
    return ("the server at %s refused the API key (%s): set %s to a valid key, then run `python -m babysit sync`"
            % (base_url, why, API_KEY_ENV))


class Client:
    """One persistent connection; any failure drops it and the next request reconnects."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("babysit url must look like http://host:port, got %r" % base_url)
        self.base_url = base_url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._conn: Optional[http.client.HTTPConnection] = None
        self._shut = False

    def shutdown(self) -> None:
        """Closes the connection for good: a request still in flight in another thread fails instead
        of reconnecting, so no socket outlives finish() (Python warns about unclosed sockets)."""
        self._shut = True
        self.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass

    def post(self, path: str, body: Any, timeout: float, connect_timeout: Optional[float] = None) -> Tuple[int, Any]:
        """POSTs `body` (a dict, or bytes already encoded) and returns (status, parsed JSON or None)."""
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
        return self.request("POST", path, data, timeout, connect_timeout)

    def get(self, path: str, timeout: float) -> Tuple[int, Any]:
        return self.request("GET", path, None, timeout)

    def request(self, method: str, path: str, data: Optional[bytes], timeout: float,
                connect_timeout: Optional[float] = None) -> Tuple[int, Any]:
        """`timeout` bounds each wait on the server; `connect_timeout`, when given, the wait for a new
        connection only (a server that is away is given up on sooner than a slow one)."""
        timeout = max(0.05, timeout)
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        key = os.environ.get(API_KEY_ENV, "").strip()
        if key:  # a team server's API key (docs/team-mode.md); a local server ignores it
            headers["Authorization"] = "Bearer " + key
        # A kept-alive connection the server closed meanwhile fails on first use: retry once, fresh.
        for attempt in (0, 1):
            if self._shut:
                raise TransportError("the connection was closed by finish()")
            reused = self._conn is not None
            try:
                if self._conn is None:
                    cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
                    wait = timeout if connect_timeout is None else max(0.05, min(timeout, connect_timeout))
                    self._conn = cls(self._host, self._port, timeout=wait)
                    self._conn.connect()
                conn = self._conn
                conn.timeout = timeout
                if conn.sock is not None:
                    conn.sock.settimeout(timeout)
                conn.request(method, self._prefix + path, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
                if resp.getheader("connection", "").lower() == "close":
                    self.close()
            except (OSError, http.client.HTTPException, socket.timeout) as err:
                self.close()
                if reused and attempt == 0 and not isinstance(err, socket.timeout):
                    continue
                raise TransportError(str(err) or type(err).__name__) from None
            try:
                parsed = json.loads(raw.decode("utf-8")) if raw else None
            except (ValueError, UnicodeDecodeError):
                parsed = None
            if resp.status == 401:
                # the caller says it, once, with where the data is kept (one message, not three)
                raise KeyRefused(error_text(resp.status, parsed), missing=not key)
            return resp.status, parsed
        raise TransportError("unreachable")  # pragma: no cover - the loop always returns or raises


def error_text(status: int, payload: Any) -> str:
    """Formats the server's error envelope (`{"error": {"code", "message"}}`) for a warning."""
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        err = payload["error"]
        return "%s %s: %s" % (status, err.get("code", "?"), err.get("message", ""))
    return "HTTP %d" % status
