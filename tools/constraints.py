"""Write constraints.txt: every package the service needs at run time, at the version installed in
this virtualenv (setup.cfg pins the direct dependencies; this pins what they pull in as well).

    python tools/constraints.py [OUT]        # default: constraints.txt beside setup.cfg
"""

from __future__ import annotations

import importlib.metadata as metadata
import os
import re
import sys

from packaging.requirements import Requirement

PROJECT = "agno-session-service"
HEADER = """\
# Every package the service needs at run time, pinned (setup.cfg pins the direct ones; this pins
# what they pull in too), so the image and 'make install' resolve the same versions everywhere.
# Regenerate after changing setup.cfg: make constraints
"""


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_closure(project: str = PROJECT) -> dict[str, str]:
    """The installed versions of `project`'s run-time dependencies, followed through the extras
    each requirement asks for (psycopg[binary] → psycopg-binary), without the project's own extras."""
    pinned: dict[str, str] = {}
    pending = [(project, frozenset())]
    done = set()
    while pending:
        name, extras = pending.pop()
        if (_key(name), extras) in done:
            continue
        done.add((_key(name), extras))
        dist = metadata.distribution(name)
        pinned[_key(name)] = dist.version
        for raw in dist.requires or []:
            req = Requirement(raw)
            wanted = [""] + sorted(extras)
            if req.marker and not any(req.marker.evaluate({"extra": e}) for e in wanted):
                continue
            pending.append((req.name, frozenset(req.extras)))
    pinned.pop(_key(project), None)
    return pinned


def main(argv: list[str]) -> int:
    out = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                     "constraints.txt")
    lines = [f"{name}=={version}" for name, version in sorted(runtime_closure().items())]
    with open(out, "w") as fh:
        fh.write(HEADER + "\n".join(lines) + "\n")
    print(f"{out}: {len(lines)} packages")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
