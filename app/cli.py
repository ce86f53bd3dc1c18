"""``agno-session-service``: command-line tools that ship with the service.

    agno-session-service compare --primary URL --candidate URL (--requests FILE | --access-log FILE)

``compare`` mirrors read traffic to two servers (typically AgentOS as primary and this service as
candidate, on the same database) and compares their answers: status, Content-Type and the parsed
JSON body. Only volatile values are masked: ``search_time_ms``, any key given with
``--ignore-key``, and, with ``--time-tolerance``, timestamps written while the comparison runs.
Writes (POST, PUT, PATCH, DELETE) are skipped unless ``--allow-writes`` is given, because
replaying them changes the data both servers serve. Exit status: 0 when every compared request
got equivalent answers, 1 when some differ (or neither server answered), 2 on bad usage.

    agno-session-service migrate [--db-id ID ...]

``migrate`` creates agno's tables in every configured database that has none (alembic, under a
lock; see app/migrate.py). It is never run by the service itself.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Sequence

from .compare.core import VOLATILE_KEYS, Client, Rules
from .compare.shadow import format_summary, replay, select, write_report
from .compare.sources import SourceError, read_access_log, read_requests
from .migrate import add_arguments as add_migrate_arguments
from .migrate import migrate_command


def _header(value: str) -> tuple[str, str]:
    name, sep, val = value.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected 'Name: value', got {value!r}")
    return name.strip(), val.strip()


def _pair(value: str) -> tuple[str, str]:
    cand, sep, prim = value.partition("=")
    if not sep or not cand or not prim:
        raise ValueError(f"--map-id expects CANDIDATE_ID=PRIMARY_ID, got {value!r}")
    return cand, prim


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agno-session-service", description="agno-session-service tools")
    sub = parser.add_subparsers(dest="command", required=True)
    cmp = sub.add_parser("compare", help="replay requests against two servers and compare the answers",
                         description=__doc__.split("\n\n", 2)[1])
    cmp.add_argument("--primary", required=True, metavar="URL", help="the reference server, e.g. the AgentOS")
    cmp.add_argument("--candidate", required=True, metavar="URL", help="the server under test")
    src = cmp.add_mutually_exclusive_group(required=True)
    src.add_argument("--requests", metavar="FILE", help="one request per line: 'GET /sessions?...' or a JSON object")
    src.add_argument("--access-log", metavar="FILE", help="an access log (common/combined format or JSON lines)")
    cmp.add_argument("--header", action="append", type=_header, default=[], metavar="'NAME: VALUE'",
                     help="sent to both servers (repeatable), e.g. 'Authorization: Bearer ...'")
    cmp.add_argument("--primary-header", action="append", type=_header, default=[], metavar="'NAME: VALUE'")
    cmp.add_argument("--candidate-header", action="append", type=_header, default=[], metavar="'NAME: VALUE'")
    cmp.add_argument("--path-prefix", default="/sessions",
                     help="only replay requests under this path (default /sessions; '' for all)")
    cmp.add_argument("--allow-writes", action="store_true", help="also replay POST/PUT/PATCH/DELETE requests")
    cmp.add_argument("--unique", action="store_true", help="replay each distinct request once")
    cmp.add_argument("--limit", type=int, default=None, help="stop after this many requests")
    cmp.add_argument("--ignore-key", action="append", default=[], metavar="KEY",
                     help="a JSON key whose values are not compared (repeatable)")
    cmp.add_argument("--map-id", action="append", default=[], metavar="CANDIDATE_ID=PRIMARY_ID",
                     help="a session known by another id on the candidate (repeatable); ids generated "
                          "by replayed creates are mapped automatically")
    cmp.add_argument("--time-tolerance", type=float, default=0.0, metavar="SECONDS",
                     help="timestamps written during the run may differ by this much (default 0)")
    cmp.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="per request (default 30)")
    cmp.add_argument("--report", metavar="FILE", help="write every outcome as JSON")
    cmp.add_argument("--max-diffs", type=int, default=5, help="differing paths shown per request (default 5)")
    cmp.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    mig = sub.add_parser("migrate", help="create agno's tables in every configured database that has none",
                         description=__doc__.split("\n\n")[-1].strip())
    add_migrate_arguments(mig)
    return parser


def compare_command(args: argparse.Namespace) -> int:
    started_wall, started = time.time(), time.monotonic()
    try:
        primary = Client(args.primary, args.timeout, [*args.header, *args.primary_header])
        candidate = Client(args.candidate, args.timeout, [*args.header, *args.candidate_header])
    except ValueError as exc:
        print(f"compare: {exc}", file=sys.stderr)
        return 2
    source = read_requests(args.requests) if args.requests else read_access_log(args.access_log)
    try:
        id_map = dict(_pair(item) for item in args.map_id)
    except ValueError as exc:
        print(f"compare: {exc}", file=sys.stderr)
        return 2
    rules = Rules(volatile_keys=VOLATILE_KEYS | frozenset(args.ignore_key), time_tolerance=args.time_tolerance,
                  time_window=(started_wall - args.time_tolerance, float("inf")), substitutions=id_map)
    summary_skipped: Counter = Counter()
    try:
        requests = select(source, path_prefix=args.path_prefix, allow_writes=args.allow_writes, unique=args.unique,
                          limit=args.limit, skipped=summary_skipped)
        summary = replay(requests, primary, candidate, rules, None if args.quiet else sys.stdout, args.max_diffs)
    except (OSError, SourceError) as exc:
        print(f"compare: {exc}", file=sys.stderr)
        return 2
    finally:
        primary.close()
        candidate.close()
    summary.skipped = summary_skipped
    print(format_summary(summary, started))
    if args.report:
        write_report(args.report, summary, {"primary": args.primary, "candidate": args.candidate,
                                            "started": started_wall, "rules": {"volatile_keys": sorted(rules.volatile_keys),
                                                                               "time_tolerance": rules.time_tolerance}})
    return 0 if summary.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "compare":
        return compare_command(args)
    if args.command == "migrate":
        return migrate_command(args)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
