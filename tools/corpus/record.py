"""Records the corpus: runs every program of programs.py against a real babysit server, behind a proxy
that writes each request the Python SDK sends, unchanged, in the ho2 format
(tests/fixtures/README.md): requests.jsonl.gz lines {method, path, body, t}, and labels.json.

    PYTHONPATH=sdk/python nice /usr/bin/python3 tools/corpus/record.py [--out tests/fixtures/corpus2]
        [--cases C2-H-CNN,C2-UNS-CNN] [--seeds 0,1,2] [--labels-only] [--programs programs3]

--programs names the module of tools/corpus that holds the programs (CASES, label, and a __main__
that runs one case): programs (corpus2, the default), programs3 (corpus3, the held-out set),
programs4 (corpus4), programs5 (corpus5, a second held-out set), programs6 (corpus6, held out after
corpus5), programs7 (corpus7, held out after corpus6), programs8 (corpus8, held out after corpus7) or
programs9 (corpus9, held out after corpus8) or programs10 (corpus10, the held-out set that took over
from corpus9).

Needs a production build of the dashboard in the worktree (`npx next build`, or once `npm start`).
The server runs on a fresh SQLite file and a free port in 4900-4999; programs run one at a time.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [HERE, os.path.join(ROOT, "sdk/python")]

import importlib  # noqa: E402

# which programs: read before argparse so that --cases defaults to that module's CASES
_PROGRAMS = sys.argv[sys.argv.index("--programs") + 1] if "--programs" in sys.argv[:-1] else "programs"
_mod = importlib.import_module(_PROGRAMS)
CASES, label = _mod.CASES, _mod.label


class Recorder:
    """Where the proxy writes: one list of requests per program run."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list = []
        self.t0: float | None = None

    def start(self) -> None:
        with self.lock:
            self.requests, self.t0 = [], None

    def add(self, method: str, path: str, body) -> None:
        with self.lock:
            now = time.time()
            if self.t0 is None:
                self.t0 = now
            self.requests.append({"method": method, "path": path, "body": body, "t": round(now - self.t0, 6)})


def make_proxy(upstream_port: int, rec: Recorder):
    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def _forward(self) -> None:
            n = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(n) if n else None
            if self.command == "POST" and self.path.startswith("/api/v1/runs"):
                rec.add(self.command, self.path, json.loads(data) if data else None)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
            conn.request(self.command, self.path, body=data, headers=headers)
            res = conn.getresponse()
            payload = res.read()
            conn.close()
            self.send_response(res.status)
            for k, v in res.getheaders():
                if k.lower() not in ("connection", "transfer-encoding", "content-length", "keep-alive"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_POST = do_GET = do_PATCH = do_DELETE = _forward

    return Proxy


def free_port(lo=4900, hi=4999) -> int:
    for p in range(lo, hi + 1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
                return p
            except OSError:
                continue
    raise RuntimeError("no free port in %d-%d" % (lo, hi))


def start_server(tmp: str) -> tuple:
    db = os.path.join(tmp, "corpus.db")
    env = dict(os.environ, DATABASE_URL="file:" + db, NODE_ENV="production", NEXT_TELEMETRY_DISABLED="1")
    subprocess.run([os.path.join(ROOT, "node_modules/.bin/prisma"), "migrate", "deploy"], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    env.update(HOST="127.0.0.1", PORT=str(port))
    log = open(os.path.join(tmp, "server.log"), "w")
    proc = subprocess.Popen(["node", "--import", "tsx", "server.ts"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited: see " + log.name)
        with open(log.name) as f:
            if "babysit listening on" in f.read():
                return proc, port
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start in 120 s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--programs", default="programs", help="module of tools/corpus holding the programs")
    out = {"programs3": "corpus3", "programs4": "corpus4", "programs5": "corpus5", "programs6": "corpus6",
           "programs7": "corpus7", "programs8": "corpus8", "programs9": "corpus9", "programs10": "corpus10"}.get(_PROGRAMS, "corpus2")
    ap.add_argument("--out", default=os.path.join(ROOT, "tests/fixtures", out))
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--labels-only", action="store_true", help="rewrite labels.json from programs.CASES, record nothing")
    args = ap.parse_args()
    cases = [c for c in args.cases.split(",") if c]
    seeds = [int(s) for s in args.seeds.split(",")]
    os.makedirs(args.out, exist_ok=True)
    labels_path = os.path.join(args.out, "labels.json")
    labels = json.load(open(labels_path)) if os.path.exists(labels_path) else {}
    if args.labels_only:
        for run, old in labels.items():
            labels[run] = label(old["case"], old["seed"])
        with open(labels_path, "w") as f:
            json.dump(dict(sorted(labels.items())), f, indent=1)
            f.write("\n")
        return

    tmp = tempfile.mkdtemp(prefix="babysit-corpus-")
    server, port = start_server(tmp)
    rec = Recorder()
    proxy = ThreadingHTTPServer(("127.0.0.1", free_port()), make_proxy(port, rec))
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        for case in cases:
            for seed in seeds:
                run = "%s_s%d" % (case, seed)
                rec.start()
                env = dict(os.environ, BABYSIT_URL="http://127.0.0.1:%d" % proxy.server_address[1], BABYSIT_QUIET="1",
                           BABYSIT_SPOOL_DIR=os.path.join(tmp, "spool"),
                           PYTHONPATH=os.path.join(ROOT, "sdk/python"))
                t0 = time.time()
                r = subprocess.run([sys.executable, os.path.join(HERE, _PROGRAMS + ".py"), case, str(seed)], env=env,
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    sys.stderr.write(r.stderr)
                    raise SystemExit("%s failed" % run)
                print("%s (%.1f s, %d requests)" % (r.stdout.strip(), time.time() - t0, len(rec.requests)), flush=True)
                d = os.path.join(args.out, run)
                os.makedirs(d, exist_ok=True)
                with gzip.GzipFile(os.path.join(d, "requests.jsonl.gz"), "wb", mtime=0) as f:
                    for q in rec.requests:
                        f.write((json.dumps(q, separators=(",", ":")) + "\n").encode())
                labels[run] = label(case, seed)
                with open(labels_path, "w") as f:
                    json.dump(dict(sorted(labels.items())), f, indent=1)
                    f.write("\n")
    finally:
        proxy.shutdown()
        server.terminate()
        server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
