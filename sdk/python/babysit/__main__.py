"""`python -m babysit sync`: send what earlier runs left in the spool directory."""

from __future__ import annotations

import argparse
import sys

from . import sync


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m babysit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("sync", help="send spooled data of earlier runs to the server")
    p.add_argument("--url", help="server address (default $BABYSIT_URL or http://127.0.0.1:3000)")
    p.add_argument("--spool-dir", help="default $BABYSIT_SPOOL_DIR or ~/.babysit/spool")
    p.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    res = sync(url=args.url, spool_dir=args.spool_dir, timeout=args.timeout)
    line = "sent %(batches)d batch(es) of %(runs)d run(s); %(batches_left)d batch(es) left" % res
    if res["rejected_points"]:
        line += "; the server rejected %(rejected_points)d point(s)" % res
    print(line)
    return 0 if res["batches_left"] == 0 and res["runs_left"] == 0 and not res["rejected_points"] else 1


if __name__ == "__main__":
    sys.exit(main())
