"""`python -m babysit sync`: send what earlier runs left in the spool directory.
`python -m babysit import PATH...`: import existing logs (TensorBoard, CSV, JSON Lines, text) as runs."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from typing import Any, Dict, List

from . import DEFAULT_URL, sync
from ._spool import SkippedSpool

# Exit codes: a script (or a person) can tell "try again later" from "fix the key first".
EXIT_OK = 0
EXIT_LEFT = 1  # something left (server away or too slow), skipped or rejected: running sync again may help
EXIT_KEY_REFUSED = 3  # the server refused the API key (401, or 403 for the project) or needs one: set BABYSIT_API_KEY first


def _report(res: Dict[str, Any], base: str, spool_dir: str) -> List[str]:
    """What sync did and what it left, in lines a user can act on."""
    lines = ["sent %(batches)d batch(es) of %(runs)d run(s); %(batches_left)d batch(es) left" % res]
    if res["rejected_points"]:
        lines[0] += "; the server rejected %(rejected_points)d point(s)" % res
    if res.get("refused"):
        # the server answered: "did not answer in time; run sync again" would send the user in circles
        lines.append("%d run(s) not sent: %s" % (res["runs_left"], res["refused"]["message"]))
    elif res["runs_left"]:
        # a refused connection reads the same here: "did not answer in time" alone sent users to wait
        lines.append("%d run(s) not finished: the server at %s could not be reached or did not answer in time; "
                     "is it running there (else --url)? Then run sync again" % (res["runs_left"], base))
    skipped = res["skipped"]
    if not skipped:
        return lines
    lines.append("not sent: %d spool file(s) in %s:" % (len(skipped), spool_dir))
    other_urls: List[str] = []
    for s in skipped:
        what = "run %s, %d batch(es)" % (s["run"], s["batches"]) if s["run"] else "%d batch(es)" % s["batches"]
        reason = s["reason"]
        if s["reason"] == SkippedSpool.OTHER_SERVER:
            reason = "made for %s, not %s" % (s["url"], base)
            if s["url"] not in other_urls:
                other_urls.append(s["url"])
        lines.append("  %s (%s): %s" % (s["path"], what, reason))
    for u in other_urls:
        lines.append("to send those to %s: python -m babysit sync --url %s" % (u, shlex.quote(u)))
    if other_urls:
        lines.append("to send them all to %s instead: python -m babysit sync --url %s --any-url"
                     % (base, shlex.quote(base)))
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m babysit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("sync", help="send spooled data of earlier runs to the server",
                       description="Sends each spool to the server it was made for; lists the spools it did not "
                                   "send. Exits 0 when everything was sent; 3 when the server refused the API key "
                                   "or needs one (set BABYSIT_API_KEY, then sync again); 1 when anything else is "
                                   "left (server unreachable or too slow: sync again later), was skipped or was "
                                   "rejected.")
    p.add_argument("--url", help="server address (default $BABYSIT_URL or %s)" % DEFAULT_URL)
    p.add_argument("--spool-dir", help="default $BABYSIT_SPOOL_DIR or ~/.babysit/spool")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--any-url", action="store_true",
                   help="also send spools made for another server URL to this one (with a warning each)")
    p = sub.add_parser("import", help="import TensorBoard log directories, CSV, JSON Lines and text logs as runs",
                       description="Sends the files to the server's import API (POST /api/v1/import), one run per "
                                   "TensorBoard run directory or log file, as `babysit import` does; importing again "
                                   "stores only what is new. Exits 0 when everything was imported; 3 when the server "
                                   "refused the API key or needs one (set BABYSIT_API_KEY); 1 when a file or run "
                                   "failed or a PATH is not there (the others were imported).")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or directories (walked recursively)")
    p.add_argument("--project", "-p", default="default", help="project of the runs (default: default)")
    p.add_argument("--name", "-n", help="run name (the PATHs must hold one run; without it each run is named by its path)")
    p.add_argument("--url", help="server address (default $BABYSIT_URL or %s)" % DEFAULT_URL)
    p.add_argument("--no-finish", dest="finish", action="store_false",
                   help="leave the runs running (a directory still being written)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for each answer")
    args = parser.parse_args(argv)
    if args.command == "import":
        return _import(args)
    from ._spool import default_spool_dir

    base = (args.url or os.environ.get("BABYSIT_URL") or DEFAULT_URL).rstrip("/")
    spool_dir = args.spool_dir or default_spool_dir()
    res = sync(url=base, spool_dir=spool_dir, timeout=args.timeout, any_url=args.any_url)
    print("\n".join(_report(res, base, spool_dir)))
    if res.get("refused"):
        return EXIT_KEY_REFUSED
    left = res["batches_left"] or res["runs_left"] or res["rejected_points"] or res["skipped"]
    return EXIT_LEFT if left else EXIT_OK


def _import(args: argparse.Namespace) -> int:
    from .importer import EXIT_FAILED, import_paths, progress_line, summary_lines

    base = (args.url or os.environ.get("BABYSIT_URL") or DEFAULT_URL).rstrip("/")
    s = import_paths(args.paths, url=base, project=args.project, name=args.name, finish=args.finish,
                     timeout=args.timeout, progress=progress_line())
    print("\n".join(summary_lines(s, args.project)))
    if s["key_refused"]:
        return EXIT_KEY_REFUSED
    return EXIT_FAILED if s["failed"] else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
