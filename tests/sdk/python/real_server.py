"""A real babysit server (the production build in BABYSIT_DIST_DIR: .next-test under npm test, else .next) on a fresh
SQLite file, for end-to-end tests.

Like tests/helpers/server.ts: started with `node --import tsx server.ts`; stop()/kill() and start()
again keep the same port and database, so tests can take the server away mid-training.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
_template = None


def _template_db():
    """A migrated, empty database, made once per test session."""
    global _template
    if _template is None:
        d = tempfile.mkdtemp(prefix="babysit-py-")
        path = os.path.join(d, "template.db")
        subprocess.run(
            [os.path.join(ROOT, "node_modules", ".bin", "prisma"), "migrate", "deploy"],
            cwd=ROOT, env=dict(os.environ, DATABASE_URL="file:" + path),
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        _template = path
    return _template


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RealServer:
    def __init__(self, env=None):
        self.dir = tempfile.mkdtemp(prefix="babysit-py-db-")
        self.db = os.path.join(self.dir, "babysit.db")
        shutil.copyfile(_template_db(), self.db)
        self.port = _free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.env = env or {}
        self.proc = None
        self.log = os.path.join(self.dir, "server.log")

    def start(self, timeout=60.0):
        env = dict(os.environ, NODE_ENV="production", NEXT_TELEMETRY_DISABLED="1", HOST="127.0.0.1",
                   PORT=str(self.port), DATABASE_URL="file:" + self.db, **self.env)
        out = open(self.log, "ab")
        self.proc = subprocess.Popen(["node", "--import", "tsx", "server.ts"], cwd=ROOT, env=env,
                                     stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            with open(self.log, "rb") as f:
                if b"babysit listening on" in f.read().split(b"---restart---")[-1]:
                    return self
            if self.proc.poll() is not None:
                raise RuntimeError("server exited early:\n" + open(self.log, errors="replace").read())
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("server did not start in %.0f s" % timeout)
            time.sleep(0.05)

    def _end(self, sig):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
        with open(self.log, "ab") as f:
            f.write(b"\n---restart---\n")

    def stop(self):
        self._end(signal.SIGTERM)

    def kill(self):
        self._end(signal.SIGKILL)

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
