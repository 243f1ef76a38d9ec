"""A tiny in-process stand-in for the babysit server, enough of docs/api.md to test the Python SDK.

It implements POST /api/v1/runs (create or resume), POST /api/v1/runs/{id}/log (seq dedupe, the
same validation of values, histograms and events as the contract), POST /api/v1/runs/{id}/finish
and GET /api/v1/runs/{id} (image events listed under ``images``, as the real server does). It can be switched to misbehave like a server that is away:

- ``down()``: the listening socket is closed, connections are refused; ``up()`` reopens the same port;
- ``mode = "503"``: every request gets 503 with the error envelope;
- ``mode = "hang"``: requests are read but never answered (until the mode changes);
- ``drop_next_log_responses = n``: the next n log batches are stored, then the connection is closed
  without an answer (a lost acknowledgement: the client must retry with the same seq);
- ``alerts = [...]``: returned in every log response (the SDK must print each code once);
  ``finish_alerts = [...]``: returned by the next finish (the diagnosis of the complete run).

Also usable on its own: ``python tests/sdk/python/fake_server.py 3000``.
"""

from __future__ import annotations

import json
import math
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

BODY_LIMIT = 8 * 1024 * 1024
_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_NON_FINITE = {"NaN", "Infinity", "-Infinity"}


def _decode(v: Any) -> float:
    if isinstance(v, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[v]
    return float(v)


class _BadBatch(Exception):
    pass


def _check_batch(body: Any) -> None:
    """The contract's validation of a log body; raises _BadBatch("path: why")."""
    if not isinstance(body, dict):
        raise _BadBatch("body must be an object")
    seq = body.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise _BadBatch("seq must be a non-negative integer")
    rows = body.get("rows", [])
    if not isinstance(rows, list) or len(rows) > 10000:
        raise _BadBatch("rows must be a list of at most 10000 rows")
    for i, row in enumerate(rows):
        step = row.get("step")
        if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step <= 2**53 - 1:
            raise _BadBatch("rows[%d].step must be a non-negative integer" % i)
        if "time" in row and not isinstance(row["time"], (int, float)):
            raise _BadBatch("rows[%d].time must be a number" % i)
        if "epoch" in row and (not isinstance(row["epoch"], (int, float)) or not math.isfinite(row["epoch"])):
            raise _BadBatch("rows[%d].epoch must be a finite number" % i)
        metrics = row.get("metrics")
        if not isinstance(metrics, dict):
            raise _BadBatch("rows[%d].metrics must be an object" % i)
        for k, v in metrics.items():
            if not 1 <= len(k) <= 200 or any(ord(c) < 32 or 127 <= ord(c) <= 159 for c in k):
                raise _BadBatch("rows[%d].metrics has a bad key" % i)
            if isinstance(v, bool) or not (isinstance(v, (int, float)) or v in _NON_FINITE):
                raise _BadBatch("rows[%d].metrics.%s must be a number or NaN/Infinity/-Infinity" % (i, k))
    if len(body.get("histograms", [])) > 1000 or len(body.get("events", [])) > 1000:
        raise _BadBatch("at most 1000 histograms and 1000 events per batch")
    for i, h in enumerate(body.get("histograms", [])):
        edges, counts = h.get("edges"), h.get("counts")
        if not isinstance(h.get("step"), int) or not isinstance(h.get("key"), str):
            raise _BadBatch("histograms[%d] needs step and key" % i)
        if not isinstance(edges, list) or not isinstance(counts, list) or len(edges) != len(counts) + 1:
            raise _BadBatch("histograms[%d].edges must have counts.length + 1 entries" % i)
        if len(counts) > 1000 or any(not isinstance(e, (int, float)) or not math.isfinite(e) for e in edges):
            raise _BadBatch("histograms[%d].edges must be finite" % i)
        if any(b < a for a, b in zip(edges, edges[1:])):
            raise _BadBatch("histograms[%d].edges must be non-decreasing" % i)
        if any(not isinstance(c, (int, float)) or not math.isfinite(c) or c < 0 for c in counts):
            raise _BadBatch("histograms[%d].counts must be non-negative" % i)
    for i, e in enumerate(body.get("events", [])):
        if not isinstance(e.get("type"), str) or not 1 <= len(e["type"]) <= 64:
            raise _BadBatch("events[%d].type must be 1..64 characters" % i)
        if not isinstance(e.get("data", {}), dict):
            raise _BadBatch("events[%d].data must be an object" % i)


class FakeServer:
    def __init__(self, port: int = 0) -> None:
        self.lock = threading.Lock()
        self.runs: Dict[str, Dict[str, Any]] = {}
        self.seqs: Dict[str, Dict[int, Dict[str, Any]]] = {}  # run -> seq -> first answer
        self.batches: Dict[str, List[Dict[str, Any]]] = {}  # run -> accepted (stored) bodies
        self.log_requests: List[Tuple[str, int]] = []  # every log request that reached the server: (run, seq)
        self.requests: List[Tuple[str, str]] = []  # (method, path)
        self.mode = "up"
        self.alerts: List[Dict[str, Any]] = []
        self.finish_alerts: List[Dict[str, Any]] = []  # returned by the next finish
        self.drop_next_log_responses = 0
        self._conns: set = set()  # open client connections, cut by down()
        self._port = port
        self._httpd: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None
        self.up()

    # ------------------------------------------------------------------ lifecycle

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self._port

    def up(self) -> None:
        """(Re)opens the listening socket on the same port and answers normally."""
        self.mode = "up"
        if self._httpd is not None:
            return
        server = self

        class Handler(_Handler):
            fake = server

        deadline = time.monotonic() + 5
        while True:
            try:
                httpd = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        httpd.daemon_threads = True
        self._httpd = httpd
        self._port = httpd.server_address[1]
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def down(self) -> None:
        """Closes the listening socket: the server is away, connections are refused."""
        httpd, self._httpd = self._httpd, None
        self.mode = "down"
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        with self.lock:
            conns = list(self._conns)
        for c in conns:  # kept-alive connections too: a server that is away answers nothing
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        self.mode = "up"  # releases hanging handlers
        self.down()

    # ------------------------------------------------------------------ what was stored

    def points(self, run_id: str) -> List[Tuple[str, int, Any]]:
        """Every stored (key, step, wire value), in arrival order, duplicates included (there must be none)."""
        out = []
        with self.lock:
            for body in self.batches.get(run_id, []):
                for row in body.get("rows", []):
                    for k, v in row["metrics"].items():
                        out.append((k, row["step"], v))
                    if "epoch" in row:
                        out.append(("epoch", row["step"], row["epoch"]))
        return out

    def series(self, run_id: str, key: str) -> Dict[int, Any]:
        return {s: v for k, s, v in self.points(run_id) if k == key}

    def rows(self, run_id: str) -> List[Dict[str, Any]]:
        with self.lock:
            return [r for b in self.batches.get(run_id, []) for r in b.get("rows", [])]

    def histograms(self, run_id: str) -> List[Dict[str, Any]]:
        with self.lock:
            return [h for b in self.batches.get(run_id, []) for h in b.get("histograms", [])]

    def events(self, run_id: str, type: Optional[str] = None) -> List[Dict[str, Any]]:
        with self.lock:
            evs = [e for b in self.batches.get(run_id, []) for e in b.get("events", [])]
        return [e for e in evs if type is None or e["type"] == type]

    def keys(self, run_id: str) -> set:
        return {k for k, _, _ in self.points(run_id)}

    # ------------------------------------------------------------------ handlers

    def handle(self, method: str, path: str, body: Any) -> Tuple[int, Any]:
        with self.lock:
            self.requests.append((method, path))
        if method == "POST" and path == "/api/v1/runs":
            return self._create(body)
        m = re.match(r"^/api/v1/runs/([^/]+)(/log|/finish)?$", path)
        if not m:
            return 404, {"error": {"code": "not_found", "message": "no route %s" % path}}
        rid, sub = m.group(1), m.group(2)
        with self.lock:
            run = self.runs.get(rid)
        if run is None:
            return 404, {"error": {"code": "not_found", "message": "run %s not found" % rid}}
        if method == "POST" and sub == "/log":
            return self._log(rid, body)
        if method == "POST" and sub == "/finish":
            status = (body or {}).get("status", "finished")
            if status not in ("finished", "crashed"):
                return 400, {"error": {"code": "invalid_body", "message": "status must be finished or crashed"}}
            with self.lock:
                run["status"] = status
                alerts, self.finish_alerts = list(self.finish_alerts), []
            return 200, {"id": rid, "status": status, "alerts": alerts}
        if method == "GET" and sub is None:
            return 200, self._detail(rid)
        return 404, {"error": {"code": "not_found", "message": "no route"}}

    def _detail(self, rid: str) -> Dict[str, Any]:
        """GET /api/v1/runs/{id}, roughly: the run, its keys with counts, histogram keys, events."""
        pts: Dict[str, Dict[int, Any]] = {}
        for k, step, v in self.points(rid):
            pts.setdefault(k, {})[step] = v
        keys = [{"key": k, "count": len(v), "firstStep": min(v), "lastStep": max(v), "lastValue": v[max(v)]}
                for k, v in sorted(pts.items())]
        hk: Dict[str, List[int]] = {}
        for h in self.histograms(rid):
            hk.setdefault(h["key"], []).append(h["step"])
        with self.lock:
            run = dict(self.runs[rid])
        images: Dict[str, List[int]] = {}
        for e in self.events(rid, "image"):
            images.setdefault(e["data"]["key"], []).append(e.get("step") or 0)
        return {"run": run, "keys": keys,
                "histogramKeys": [{"key": k, "count": len(s), "lastStep": max(s)} for k, s in sorted(hk.items())],
                "events": [e for e in self.events(rid) if e["type"] != "image"],
                "images": [{"key": k, "count": len(s), "lastStep": max(s)} for k, s in sorted(images.items())]}

    def _create(self, body: Any) -> Tuple[int, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("project"), str) or not 1 <= len(body["project"]) <= 100:
            return 400, {"error": {"code": "invalid_body", "message": "project must be a string of 1..100 characters"}}
        rid = body.get("id")
        if rid is not None and (not isinstance(rid, str) or not _RUN_ID.match(rid)):
            return 400, {"error": {"code": "invalid_body", "message": "id must match [A-Za-z0-9_-]{1,64}"}}
        with self.lock:
            if rid is None:
                rid = "srv%d" % (len(self.runs) + 1)
            if rid in self.runs:
                run = self.runs[rid]
                run["status"] = "running"
                run["config"].update(body.get("config") or {})
                run["resumes"] += 1
                return 200, {"id": rid, "url": "/runs/" + rid, "resumed": True}
            self.runs[rid] = {"id": rid, "project": body["project"], "name": body.get("name"),
                              "config": dict(body.get("config") or {}), "status": "running", "resumes": 0}
            self.seqs[rid] = {}
            self.batches[rid] = []
            return 201, {"id": rid, "url": "/runs/" + rid, "resumed": False}

    def _log(self, rid: str, body: Any) -> Tuple[int, Any]:
        try:
            _check_batch(body)
        except _BadBatch as err:
            return 400, {"error": {"code": "invalid_batch", "message": str(err)}}
        seq = body["seq"]
        with self.lock:
            self.log_requests.append((rid, seq))
            seen = self.seqs[rid].get(seq)
            if seen is not None:
                return 200, dict(seen, duplicate=True)
            self.batches[rid].append(body)
            points = sum(len(r["metrics"]) + ("epoch" in r) for r in body.get("rows", []))
            answer = {"accepted": {"points": points, "histograms": len(body.get("histograms", [])),
                                   "events": len(body.get("events", []))}, "duplicate": False}
            self.seqs[rid][seq] = answer
            return 200, dict(answer, alerts=list(self.alerts))


class _Handler(BaseHTTPRequestHandler):
    fake: FakeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep test output clean
        pass

    def setup(self):
        super().setup()
        with self.fake.lock:
            self.fake._conns.add(self.connection)

    def finish(self):
        with self.fake.lock:
            self.fake._conns.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def _reply(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _serve(self, method: str) -> None:
        fake = self.fake
        length = int(self.headers.get("Content-Length") or 0)
        if length > BODY_LIMIT:
            self.rfile.read(length)
            return self._reply(413, {"error": {"code": "payload_too_large", "message": "body over 8 MiB"}})
        raw = self.rfile.read(length) if length else b""
        while fake.mode == "hang":
            time.sleep(0.02)
        if fake.mode == "down":
            self.close_connection = True
            return
        if fake.mode == "503":
            return self._reply(503, {"error": {"code": "internal", "message": "unavailable"}})
        body = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return self._reply(400, {"error": {"code": "invalid_json", "message": "body is not JSON"}})
        status, payload = fake.handle(method, self.path.split("?")[0], body)
        if method == "POST" and self.path.endswith("/log") and status == 200:
            with fake.lock:
                drop = fake.drop_next_log_responses > 0
                if drop:
                    fake.drop_next_log_responses -= 1
            if drop:  # stored, but the client never hears back
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
        self._reply(status, payload)

    def do_POST(self):
        self._serve("POST")

    def do_GET(self):
        self._serve("GET")


if __name__ == "__main__":
    srv = FakeServer(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
    print("fake babysit server on", srv.url)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.close()
