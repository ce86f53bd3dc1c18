"""The reliability suite (`make reliability`): every promise of the service under hostile input,
database faults, shutdown, concurrency and foreign users, each a test that can fail.

Not part of `make test` (see `norecursedirs` in setup.cfg): it starts servers, stops databases
and runs thousands of generated requests. Each test reports what it did to a *scenario* row:

    def test_something(scenario):
        sc = scenario("hostile input: path ids")
        sc.record(resp.status_code == 404, f"{url}: {resp.status_code}")   # one request, kept or broken
        sc.acked()                                   # a write acknowledged with 2xx
        sc.lost(n, "what is missing")                # acknowledged writes missing afterwards
        sc.check()                                   # fails the test if anything was broken

At the end one table is printed (scenario, requests, failures, acknowledged writes, lost, result)
and written to build/reliability-report.json.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field

import pytest

REPORT_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "build", "reliability-report.json")
MAX_PROBLEMS = 25


@dataclass
class Row:
    name: str
    requests: int = 0
    failures: int = 0
    acked_writes: int = 0
    acked_lost: int = 0
    tests: list = field(default_factory=list)


class Scenario:
    """One test's contribution to a scenario row; thread-safe (load generators record from threads)."""

    def __init__(self, row: Row):
        self.row = row
        self.requests = self.failures = self.acked_writes = self.acked_lost = 0
        self.problems: list[str] = []
        self._lock = threading.Lock()

    def record(self, ok: bool, problem: str = "", count: int = 1) -> bool:
        """`count` requests whose outcome kept (ok) or broke the promise under test."""
        with self._lock:
            self.requests += count
            if not ok:
                self.failures += count
                if len(self.problems) < MAX_PROBLEMS:
                    self.problems.append(problem or "failed")
        return ok

    def acked(self, count: int = 1) -> None:
        with self._lock:
            self.acked_writes += count

    def lost(self, count: int, problem: str = "") -> None:
        if count <= 0:
            return
        with self._lock:
            self.acked_lost += count
            if len(self.problems) < MAX_PROBLEMS:
                self.problems.append(f"{count} acknowledged write(s) lost: {problem}")

    def check(self) -> None:
        assert self.requests > 0, f"{self.row.name}: no request was recorded"
        assert self.failures == 0 and self.acked_lost == 0, (
            f"{self.row.name}: {self.failures} of {self.requests} requests broke the promise,"
            f" {self.acked_lost} acknowledged writes lost:\n  " + "\n  ".join(self.problems))

    def _merge(self) -> None:
        self.row.requests += self.requests
        self.row.failures += self.failures
        self.row.acked_writes += self.acked_writes
        self.row.acked_lost += self.acked_lost


_rows: dict[str, Row] = {}
_outcomes: dict[str, str] = {}


@pytest.fixture
def scenario(request):
    """`scenario(name)` → a Scenario whose figures join the row `name` of the final table."""
    made: list[Scenario] = []

    def factory(name: str) -> Scenario:
        row = _rows.setdefault(name, Row(name))
        if request.node.nodeid not in row.tests:
            row.tests.append(request.node.nodeid)
        sc = Scenario(row)
        made.append(sc)
        return sc

    yield factory
    for sc in made:
        sc._merge()


@pytest.fixture(scope="module")
def cluster():
    """A durable PostgreSQL cluster of the test module's own, which its tests stop and start."""
    from .servers import pg_cluster

    with pg_cluster() as pg:
        yield pg


@pytest.fixture(scope="module")
def workdir(request, tmp_path_factory):
    """A directory for the module's server logs and files."""
    return str(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed or (report.when == "call" and report.skipped):
        _outcomes[item.nodeid] = "skipped" if report.skipped else "failed"
    elif report.when == "call":
        _outcomes.setdefault(item.nodeid, "passed")
    return report


def _result(row: Row) -> str:
    states = [_outcomes.get(nodeid, "not run") for nodeid in row.tests]
    if any(s == "failed" for s in states):
        return "FAIL"
    if row.failures or row.acked_lost:
        return "FAIL"
    if states and all(s == "skipped" for s in states):
        return "skipped"
    return "pass"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _rows:
        return
    header = ("scenario", "requests", "failures", "acked writes", "acked writes lost", "result")
    lines = [(r.name, str(r.requests), str(r.failures), str(r.acked_writes), str(r.acked_lost), _result(r))
             for r in _rows.values()]
    total = ("total", str(sum(r.requests for r in _rows.values())), str(sum(r.failures for r in _rows.values())),
             str(sum(r.acked_writes for r in _rows.values())), str(sum(r.acked_lost for r in _rows.values())),
             "FAIL" if any(line[-1] == "FAIL" for line in lines) else "pass")
    widths = [max(len(x[i]) for x in [header, total, *lines]) for i in range(len(header))]

    def fmt(cells):
        padded = (c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    terminalreporter.section("reliability")
    for line in (fmt(header), rule, *map(fmt, lines), rule, fmt(total)):
        terminalreporter.write_line(line)
    os.makedirs(os.path.dirname(REPORT_PATH), exist_ok=True)
    with open(REPORT_PATH, "w", encoding="utf-8") as fh:
        json.dump({"scenarios": [{"scenario": r.name, "requests": r.requests, "failures": r.failures,
                                  "acked_writes": r.acked_writes, "acked_writes_lost": r.acked_lost,
                                  "result": _result(r), "tests": r.tests} for r in _rows.values()]},
                  fh, indent=2)
    terminalreporter.write_line(f"written to {os.path.relpath(REPORT_PATH)}")
