#!/usr/bin/env python3
"""`make lint-deploy`: lint and validate the deployment assets offline, with no Docker engine,
helm binary or cluster.

Checks, in this order (each prints a header and its result):

 1. hadolint          Dockerfile (any finding fails, style included)
 2. shellcheck        scripts/*.sh (there must be at least one)
 3. Dockerfile invariants (multi-stage, numeric non-root USER, exec-form gunicorn CMD, ...)
 4. helm lint         chart/, strict, Kubernetes v1.30.0: chart defaults and every chart/ci/*.yaml
 5. helm render       chart/ -> build/chart/<values set>.yaml (helm-python-sdk, no cluster); also
                      checks that rendering with no database configured, or with a drain not below
                      the graceful timeout, fails with a clear message
 6. yamllint          --strict (.yamllint.yaml): compose file, Chart.yaml, values files and the
                      rendered manifests
 7. dclint            docker-compose.yml, no errors and no warnings
 8. compose schema    docker-compose.yml against the Compose specification's JSON schema (the copy
                      bundled with dclint), with python-jsonschema
 9. compose invariants (pinned images, loopback ports, migrate ordering, stop_grace_period, ...)
10. kubernetes-validate --strict -k 1.30.0 on each rendered file
11. chart invariants  on each rendered file (terminationGracePeriodSeconds > preStop +
                      AGNO_GRACEFUL_TIMEOUT, AGNO_DRAIN_SECONDS below the latter, probe paths, hardened securityContext, no latest
                      tag, migrate hook reads nothing the release creates later, ...)

Every check runs even when an earlier one failed (checks that need the rendered manifests are
skipped, and counted as failed, when rendering failed); the summary lists each result and the exit
status is 1 when anything failed. The tools come from `make deploy-tools`: the `deploy` extra in
the virtualenv running this script, and dclint from tools/npm/node_modules.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import invariants
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the virtualenv's bin: hadolint, shellcheck, yamllint, kubernetes-validate
CHART = ROOT / "chart"
OUT = ROOT / "build" / "chart"
COMPOSE = ROOT / "docker-compose.yml"
DCLINT = ROOT / "tools" / "npm" / "node_modules" / ".bin" / "dclint"
COMPOSE_SCHEMA = ROOT / "tools" / "npm" / "node_modules" / "dclint" / "schemas" / "compose.schema.json"
KUBE_VERSION = "1.30.0"
RELEASE, NAMESPACE = "agno-session-service", "agno"
# The one value the chart requires (it refuses to render without a database): the "default"
# values set is the chart's defaults plus this, and nothing else.
REQUIRED_VALUES = {"secret": {"pgDsn": "postgresql://agno:lint-only@postgres.agno.svc:5432/agno"}}


def tool(name: str) -> str:
    """Path of a console script of the deploy extra (next to this interpreter), else from PATH."""
    candidate = BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found: run `make deploy-tools`")
    return found


def run(argv: list[str]) -> bool:
    """Run a command from the repository root, its output going straight to ours."""
    shown = " ".join(str(Path(arg).relative_to(ROOT)) if arg.startswith(str(ROOT)) else arg for arg in argv)
    print(f"$ {shown}", flush=True)
    return subprocess.run(argv, cwd=ROOT, check=False).returncode == 0


def report(problems: list[str]) -> bool:
    for problem in problems:
        print(f"  - {problem}")
    if not problems:
        print("  no problems")
    return not problems


def relative(paths: list[Path]) -> list[str]:
    return [str(path.relative_to(ROOT)) for path in paths]


class Lint:
    def __init__(self) -> None:
        self.results: list[tuple[str, bool]] = []
        self.rendered: dict[str, Path] = {}
        self.render_ok = False

    def step(self, title: str, check: Callable[[], bool]) -> None:
        print(f"\n=== {title}", flush=True)
        try:
            ok = check()
        except Exception as exc:  # a missing tool or an unreadable file fails this check only
            print(f"  error: {exc}")
            ok = False
        print(f"--> {'ok' if ok else 'FAILED'}: {title}", flush=True)
        self.results.append((title, ok))

    # 1-3: image and scripts

    def hadolint(self) -> bool:
        return run([tool("hadolint"), "--failure-threshold", "style", "Dockerfile"])

    def shellcheck(self) -> bool:
        scripts = sorted((ROOT / "scripts").glob("*.sh"))
        if not scripts:
            print("  no scripts/*.sh found (the smoke script scripts/test-session-api.sh is expected)")
            return False
        return run([tool("shellcheck"), "--severity=style", *relative(scripts)])

    def dockerfile_invariants(self) -> bool:
        return report(invariants.check_dockerfile((ROOT / "Dockerfile").read_text()))

    # 4-5: the chart

    def values_sets(self) -> dict[str, dict[str, Any]]:
        import helm_python as helm

        sets: dict[str, dict[str, Any]] = {"default": REQUIRED_VALUES}
        for path in sorted((CHART / "ci").glob("*.yaml")):
            sets[path.stem] = helm.values_from_yaml(path.read_text())
        return sets

    def helm_lint(self) -> bool:
        import helm_python as helm

        ok = True
        # The chart defaults alone configure no database: the chart's `fail` for that is only an
        # INFO log line in helm's lint mode (rendering refuses it; see the render step).
        for name, values in {"chart defaults": None, **self.values_sets()}.items():
            result = helm.lint(str(CHART), values, strict=True, kube_version=f"v{KUBE_VERSION}")
            messages = result.get("messages") or []
            errors = result.get("errors") or []
            print(f"  {name}: {result.get('total_charts_linted')} chart(s) linted, {len(messages)} message(s)")
            for message in messages:
                print(f"    [{message.get('severity')}] {message.get('path')}: {message.get('error')}")
            for error in errors:
                print(f"    error: {error}")
            # Strict: informational findings ("icon is recommended", ...) count too.
            ok = ok and not messages and not errors
        return ok

    def helm_render(self) -> bool:
        import helm_python as helm

        OUT.mkdir(parents=True, exist_ok=True)
        for stale in OUT.glob("*"):
            stale.unlink()
        ok = True
        # Values the chart must refuse to render, each with the value its message must name.
        refused = [("no database configured", {}, "secret.pgDsn"),
                   ("a drain as long as the graceful timeout",
                    {**REQUIRED_VALUES, "config": {"drainSeconds": 30, "gracefulTimeout": 30}}, "config.drainSeconds")]
        with helm.Chart.load(str(CHART)) as chart:
            for what, values, named in refused:
                try:
                    chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
                except helm.HelmError as exc:
                    if named in str(exc):
                        print(f"  {what}: refused as expected")
                    else:
                        print(f"  {what}: refused, but without naming {named}: {exc}")
                        ok = False
                else:
                    print(f"  {what}: rendered, but the chart must refuse it")
                    ok = False
            for name, values in self.values_sets().items():
                chart.validate_schema(values)
                rendered = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
                documents, notes = [], ""
                for source in sorted(rendered):
                    text = rendered[source].strip()
                    if source.endswith("NOTES.txt"):
                        notes = text
                    elif source.endswith((".yaml", ".yml")) and text:
                        documents.append(f"---\n# Source: {source}\n{text}\n")
                target = OUT / f"{name}.yaml"
                target.write_text("".join(documents))
                (OUT / f"{name}-NOTES.txt").write_text(notes + "\n")
                self.rendered[name] = target
                print(f"  {name}: {len(documents)} manifest(s) -> {target.relative_to(ROOT)}")
                if not notes:
                    print(f"  {name}: NOTES.txt rendered empty")
                    ok = False
        self.render_ok = ok
        return ok

    # 6-9: YAML and compose

    def yamllint(self) -> bool:
        files = [COMPOSE, ROOT / ".yamllint.yaml", CHART / "Chart.yaml", CHART / "values.yaml",
                 *sorted((CHART / "ci").glob("*.yaml")), *self.rendered.values()]
        ok = run([tool("yamllint"), "--strict", "-c", ".yamllint.yaml", *relative(files)])
        return ok and self.needs_render()

    def dclint(self) -> bool:
        if not DCLINT.exists():
            raise FileNotFoundError(f"{DCLINT.relative_to(ROOT)} missing: run `make deploy-tools`")
        return run([str(DCLINT), "--max-warnings", "0", "--color", "false", str(COMPOSE.relative_to(ROOT))])

    def compose_schema(self) -> bool:
        import json

        import jsonschema

        schema = json.loads(COMPOSE_SCHEMA.read_text())
        validator = jsonschema.Draft7Validator(schema)
        compose = yaml.safe_load(COMPOSE.read_text())
        problems = [f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
                    for error in sorted(validator.iter_errors(compose), key=lambda error: list(map(str, error.path)))]
        print(f"  schema: {COMPOSE_SCHEMA.relative_to(ROOT)} ({schema.get('title', '?')})")
        return report(problems)

    def compose_invariants(self) -> bool:
        return report(invariants.check_compose(yaml.safe_load(COMPOSE.read_text())))

    # 10-11: rendered manifests

    def needs_render(self) -> bool:
        if not self.render_ok:
            print("  the chart did not render: nothing (or not everything) to check")
        return self.render_ok

    def kubernetes_validate(self) -> bool:
        ok = True
        for path in self.rendered.values():
            ok = run([tool("kubernetes-validate"), "--strict", "--quiet", "-k", KUBE_VERSION,
                      str(path.relative_to(ROOT))]) and ok
        return ok and self.needs_render()

    def chart_invariants(self) -> bool:
        ok = True
        for name, path in self.rendered.items():
            documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
            print(f"  {name}:")
            ok = report(invariants.check_chart(documents)) and ok
        return ok and self.needs_render()

    def main(self) -> int:
        self.step("hadolint Dockerfile", self.hadolint)
        self.step("shellcheck scripts/*.sh", self.shellcheck)
        self.step("Dockerfile invariants", self.dockerfile_invariants)
        self.step(f"helm lint --strict (Kubernetes v{KUBE_VERSION})", self.helm_lint)
        self.step("helm render -> build/chart/", self.helm_render)
        self.step("yamllint --strict", self.yamllint)
        self.step("dclint docker-compose.yml", self.dclint)
        self.step("compose schema (python-jsonschema)", self.compose_schema)
        self.step("compose invariants", self.compose_invariants)
        self.step(f"kubernetes-validate --strict -k {KUBE_VERSION}", self.kubernetes_validate)
        self.step("chart invariants", self.chart_invariants)
        print("\n=== summary")
        for title, ok in self.results:
            print(f"  {'ok    ' if ok else 'FAILED'}  {title}")
        failed = sum(not ok for _, ok in self.results)
        print(f"{len(self.results) - failed} of {len(self.results)} checks passed")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(Lint().main())
