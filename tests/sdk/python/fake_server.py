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
  ``finish_alerts = [...]``: returned by the next finish (the diagnosis of the complete run);
  ``finish_checklist = {...}``: the finish answer's ``checklist`` (absent while None);
- ``reject_logs = n``: the next n log batches are refused with 422 ``invalid_batch`` (a server whose
  rules the SDK does not know), storing nothing;
- ``max_body_bytes = n``: log bodies over n bytes get 413 ``payload_too_large``;
- ``answer_delay = s``: every request is answered s seconds late (a server just restarted, under load);
- ``fail_logs = True``: log batches get 503 (creates and finishes are answered).

Like the real server it applies the per-run key limits (keysPerRun, histogramKeysPerRun,
imageKeysPerRun): the new keys of a batch beyond them are left out, the rest stored, and the answer's
``refused`` says what was left out (``null`` when nothing was).

Its limits are the contract's, read from docs/contract.json, like the real server's.

Also usable on its own: ``python tests/sdk/python/fake_server.py 3000``.
"""

from __future__ import annotations

import json
import math
import os
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "docs", "contract.json")) as _f:
    CONTRACT = json.load(_f)
LIMIT = {k: v["value"] for k, v in CONTRACT["limits"].items()}
BODY_LIMIT = LIMIT["bodyBytes"]
_RUN_ID = re.compile(CONTRACT["runIdPattern"])


def name_ok(s: Any, max_length: int) -> bool:
    """The contract's rule for keys, event types, projects and names: 1..max code points, no lone
    surrogate, no U+0000-U+001F or U+007F."""
    return (isinstance(s, str) and 1 <= len(s) <= max_length
            and not any(0xD800 <= ord(c) <= 0xDFFF or ord(c) < 32 or ord(c) == 127 for c in s))


def _depth(v: Any) -> int:
    if isinstance(v, dict):
        return 1 + max((_depth(x) for x in v.values()), default=0)
    if isinstance(v, list):
        return 1 + max((_depth(x) for x in v), default=0)
    return 0


def _strings_ok(v: Any) -> bool:
    if isinstance(v, str):
        return not any(0xD800 <= ord(c) <= 0xDFFF for c in v)
    if isinstance(v, dict):
        return all(_strings_ok(k) and _strings_ok(x) for k, x in v.items())
    if isinstance(v, list):
        return all(_strings_ok(x) for x in v)
    return True


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
    if not _strings_ok(body):
        raise _BadBatch("strings must be well-formed Unicode")
    if _depth(body) > LIMIT["jsonDepth"]:
        raise _BadBatch("body nested too deeply")
    rows = body.get("rows", [])
    if not isinstance(rows, list) or len(rows) > LIMIT["rowsPerBatch"]:
        raise _BadBatch("rows must be a list of at most 10000 rows")
    for i, row in enumerate(rows):
        step = row.get("step")
        if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step <= LIMIT["stepMax"]:
            raise _BadBatch("rows[%d].step must be a non-negative integer" % i)
        if "time" in row and (not isinstance(row["time"], (int, float)) or not 0 <= row["time"] <= LIMIT["timeMax"]):
            raise _BadBatch("rows[%d].time must be a number" % i)
        if "epoch" in row and (not isinstance(row["epoch"], (int, float)) or not math.isfinite(row["epoch"])
                               or abs(row["epoch"]) > LIMIT["epochAbsMax"]):
            raise _BadBatch("rows[%d].epoch must be a finite number" % i)
        metrics = row.get("metrics")
        if not isinstance(metrics, dict):
            raise _BadBatch("rows[%d].metrics must be an object" % i)
        for k, v in metrics.items():
            if not name_ok(k, LIMIT["keyMaxLength"]):
                raise _BadBatch("rows[%d].metrics has a bad key" % i)
            if isinstance(v, bool) or not (isinstance(v, (int, float)) or v in _NON_FINITE):
                raise _BadBatch("rows[%d].metrics.%s must be a number or NaN/Infinity/-Infinity" % (i, k))
    if len(body.get("histograms", [])) > LIMIT["histogramsPerBatch"] or len(body.get("events", [])) > LIMIT["eventsPerBatch"]:
        raise _BadBatch("at most 1000 histograms and 1000 events per batch")
    for i, h in enumerate(body.get("histograms", [])):
        edges, counts = h.get("edges"), h.get("counts")
        if not isinstance(h.get("step"), int) or not name_ok(h.get("key"), LIMIT["keyMaxLength"]):
            raise _BadBatch("histograms[%d] needs step and key" % i)
        if not isinstance(edges, list) or not isinstance(counts, list) or len(edges) != len(counts) + 1:
            raise _BadBatch("histograms[%d].edges must have counts.length + 1 entries" % i)
        if len(counts) > LIMIT["histogramBins"] or any(not isinstance(e, (int, float)) or not math.isfinite(e) for e in edges):
            raise _BadBatch("histograms[%d].edges must be finite" % i)
        if any(b < a for a, b in zip(edges, edges[1:])):
            raise _BadBatch("histograms[%d].edges must be non-decreasing" % i)
        if any(not isinstance(c, (int, float)) or not math.isfinite(c) or c < 0 for c in counts):
            raise _BadBatch("histograms[%d].counts must be non-negative" % i)
    for i, e in enumerate(body.get("events", [])):
        if not name_ok(e.get("type"), LIMIT["eventTypeMaxLength"]):
            raise _BadBatch("events[%d].type must be 1..64 code points" % i)
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
        self.finish_checklist: Any = None  # the finish answer's checklist, when not None
        self.drop_next_log_responses = 0
        self.reject_logs = 0
        self.max_body_bytes = BODY_LIMIT
        self.answer_delay = 0.0
        self.fail_logs = False
        self.run_keys: Dict[str, Dict[str, set]] = {}  # run -> {"metric"|"histogram"|"image": keys}
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
            answer: Dict[str, Any] = {"id": rid, "status": status, "alerts": alerts}
            if self.finish_checklist is not None:
                answer["checklist"] = self.finish_checklist
            return 200, answer
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

    def last_step(self, rid: str) -> Optional[int]:
        steps = [s for _, s, _ in self.points(rid)] + [h["step"] for h in self.histograms(rid)]
        return max(steps) if steps else None

    def _create(self, body: Any) -> Tuple[int, Any]:
        if not isinstance(body, dict) or not name_ok(body.get("project"), LIMIT["projectMaxLength"]):
            return 400, {"error": {"code": "invalid_body", "message": "project must be a string of 1..100 code points"}}
        if body.get("name") is not None and not name_ok(body["name"], LIMIT["runNameMaxLength"]):
            return 400, {"error": {"code": "invalid_body", "message": "name must be a string of 1..200 code points"}}
        config = body.get("config")
        if config is not None:
            size = len(json.dumps(config, ensure_ascii=False, separators=(",", ":")).encode())
            if (not isinstance(config, dict) or _depth(config) > LIMIT["configDepth"] or size > LIMIT["configBytes"]
                    or not _strings_ok(config)):
                return 400, {"error": {"code": "invalid_body", "message": "config over the limits"}}
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
            else:
                self.runs[rid] = {"id": rid, "project": body["project"], "name": body.get("name"),
                                  "config": dict(body.get("config") or {}), "status": "running", "resumes": 0}
                self.seqs[rid] = {}
                self.batches[rid] = []
                return 201, {"id": rid, "url": "/runs/" + rid, "project": body["project"],
                             "name": body.get("name") or "run-%d" % len(self.runs), "resumed": False}
        run = self.runs[rid]
        if body.get("name"):
            run["name"] = body["name"]
        # Like the real server: a resume keeps the run in the project it was created in.
        return 200, {"id": rid, "url": "/runs/" + rid, "project": run["project"],
                     "name": run["name"] or "run-%s" % rid, "resumed": True, "lastStep": self.last_step(rid)}

    def _log(self, rid: str, body: Any) -> Tuple[int, Any]:
        if self.fail_logs:
            return 503, {"error": {"code": "internal", "message": "unavailable"}}
        with self.lock:
            reject = self.reject_logs > 0
            if reject:
                self.reject_logs -= 1
                self.log_requests.append((rid, body.get("seq") if isinstance(body, dict) else None))
        if reject:
            return 422, {"error": {"code": "invalid_batch", "message": "rows[0].metrics: refused by a rule the SDK does not know"}}
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
            body, refused = self._admit_keys(rid, body)
            self.batches[rid].append(body)
            points = sum(len(r["metrics"]) + ("epoch" in r) for r in body.get("rows", []))
            answer = {"accepted": {"points": points, "histograms": len(body.get("histograms", [])),
                                   "events": len(body.get("events", []))}, "duplicate": False, "refused": refused}
            self.seqs[rid][seq] = answer
            return 200, dict(answer, alerts=list(self.alerts))

    def _admit_keys(self, rid: str, body: Dict[str, Any]) -> Tuple[Dict[str, Any], Optional[Dict[str, Any]]]:
        """The batch less the items of new keys beyond the per-run limits, and the `refused` answer (lock held)."""
        known = self.run_keys.setdefault(rid, {"metric": set(), "histogram": set(), "image": set()})
        limits = {"metric": LIMIT["keysPerRun"], "histogram": LIMIT["histogramKeysPerRun"], "image": LIMIT["imageKeysPerRun"]}
        refused_keys: List[str] = []
        counts = {"metric": 0, "histogram": 0, "image": 0}

        def admit(kind: str, key: str) -> bool:
            if key in known[kind]:
                return True
            if len(known[kind]) < limits[kind]:
                known[kind].add(key)
                return True
            if key not in refused_keys:
                refused_keys.append(key)
            counts[kind] += 1
            return False

        rows = []
        for row in body.get("rows", []):
            metrics = {k: v for k, v in row["metrics"].items() if admit("metric", k)}
            epoch_refused = "epoch" in row and "epoch" not in row["metrics"] and not admit("metric", "epoch")
            row = dict(row, metrics=metrics)
            if epoch_refused:
                row.pop("epoch")
            rows.append(row)
        out = dict(body, rows=rows)
        if "histograms" in body:
            out["histograms"] = [h for h in body["histograms"] if admit("histogram", h["key"])]
        if "events" in body:
            out["events"] = [e for e in body["events"] if e["type"] != "image" or admit("image", e["data"]["key"])]
        if not refused_keys:
            return out, None
        return out, {"code": "too_many_keys", "message": "run %s: %d new key(s) over the per-run limits were not stored"
                     % (rid, len(refused_keys)), "points": counts["metric"], "histograms": counts["histogram"],
                     "events": counts["image"], "keys": refused_keys[:20]}


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
        if length > BODY_LIMIT or (self.path.endswith("/log") and length > fake.max_body_bytes):
            self.rfile.read(length)
            with fake.lock:
                fake.requests.append((method, self.path))
            limit = min(BODY_LIMIT, fake.max_body_bytes)
            return self._reply(413, {"error": {"code": "payload_too_large", "message": "body over %d bytes" % limit}})
        raw = self.rfile.read(length) if length else b""
        if fake.answer_delay:
            time.sleep(fake.answer_delay)
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
