"""Properties of the deployment assets that the linters cannot know about, checked in Python.

Each ``check_*`` function takes parsed content and returns a list of problems (empty: fine), so
a template or compose edit that breaks graceful shutdown, the probes or the hardening fails
``make lint-deploy`` even when every schema still validates.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Mapping
from typing import Any

# Variables that carry credentials: they may reach a container only through a Secret.
SECRET_VARIABLES = ("AGNO_PG_DSN", "DATABASE_URL", "AGNO_SESSION_DSN_MAP", "OS_SECURITY_KEY")
_SLEEP_CALL = re.compile(r"time\.sleep\(\s*(\d+(?:\.\d+)?)\s*\)")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")
_DURATION_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


# --- Dockerfile ------------------------------------------------------------------------------

def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        keyword, _, rest = pending.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    return instructions


def _is_exec_form(arguments: str) -> list[str] | None:
    try:
        value = json.loads(arguments)
    except ValueError:
        return None
    return value if isinstance(value, list) and all(isinstance(item, str) for item in value) else None


def _check_base_image(image: str) -> list[str]:
    """A base image must carry an exact version tag (a digest on top is welcome), never latest."""
    tag = _image_tag(image)
    if not tag or tag == "latest":
        return [f"FROM {image}: pin an exact version tag"]
    if image.split("/")[-1].startswith("python:") and not re.match(r"^\d+\.\d+\.\d+", tag):
        return [f"FROM {image}: pin the exact Python patch release (3.x.y-...)"]
    return []


def check_dockerfile(text: str) -> list[str]:
    problems: list[str] = []
    instructions = dockerfile_instructions(text)
    args: dict[str, str] = {}
    stages: list[list[tuple[str, str]]] = []
    stage_names: set[str] = set()
    for keyword, rest in instructions:
        if keyword == "ARG" and not stages and "=" in rest:
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip()
        if keyword == "FROM":
            stages.append([])
            words = rest.split()
            image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), words[0])
            if image not in stage_names:  # FROM <earlier stage> needs no tag
                problems.extend(_check_base_image(image))
            if len(words) >= 3 and words[1].upper() == "AS":
                stage_names.add(words[2])
        if stages:
            stages[-1].append((keyword, rest))
    if len(stages) < 2:
        problems.append("expected a multi-stage build (build stage + final stage)")
        return problems
    final = stages[-1]
    users = [rest for keyword, rest in final if keyword == "USER"]
    if not users:
        problems.append("final stage: no USER (the image would run as root)")
    else:
        uid = users[-1].split(":")[0]
        if not uid.isdigit() or int(uid) == 0:
            problems.append(f"final stage: USER {users[-1]} must be a numeric non-root uid (runAsNonRoot cannot verify names)")
    commands = [(keyword, rest) for keyword, rest in final if keyword in ("CMD", "ENTRYPOINT")]
    if not commands:
        problems.append("final stage: no CMD/ENTRYPOINT")
    for keyword, rest in commands:
        argv = _is_exec_form(rest)
        if argv is None:
            problems.append(f"{keyword} {rest}: use the exec (JSON) form so gunicorn is PID 1 and gets SIGTERM")
        elif keyword == "CMD" and argv[:1] != ["gunicorn"]:
            problems.append(f"CMD {rest}: expected gunicorn")
    if not any(keyword == "HEALTHCHECK" for keyword, _ in final):
        problems.append("final stage: no HEALTHCHECK")
    if not any(keyword == "EXPOSE" and "8080" in rest.split() for keyword, rest in final):
        problems.append("final stage: EXPOSE 8080 missing")
    env = " ".join(rest for keyword, rest in final if keyword == "ENV")
    for variable in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PROMETHEUS_MULTIPROC_DIR"):
        if variable not in env:
            problems.append(f"final stage: ENV {variable} missing")
    if any(keyword in ("COPY", "ADD") and re.search(r"(^|\s)\.?/?app/?(\s|$)", rest) for keyword, rest in final):
        problems.append("final stage copies app/: the package is installed in the venv, a second copy would shadow it")
    return problems


# --- docker-compose.yml ----------------------------------------------------------------------

def parse_duration(value: Any) -> float:
    """Seconds of a compose duration such as '40s', '1m30s' or a bare number of seconds."""
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    parts = _DURATION.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise ValueError(f"not a duration: {value!r}")
    return sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)


def _environment(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def _image_tag(image: str) -> str:
    last = image.split("@")[0].split("/")[-1]
    return last.partition(":")[2]


def check_compose(compose: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    if "version" in compose:
        problems.append("top-level 'version' is obsolete in the Compose specification")
    services = compose.get("services") or {}
    for required in ("postgres", "migrate", "app"):
        if required not in services:
            problems.append(f"service {required!r} missing")
    if problems:
        return problems
    for name, service in services.items():
        image = service.get("image")
        if image and _image_tag(image) in ("", "latest"):
            problems.append(f"{name}: image {image!r} needs an explicit version tag")
        for port in service.get("ports") or []:
            text = str(port.get("host_ip", "") if isinstance(port, dict) else port)
            if not text.startswith("127.0.0.1:") and not (isinstance(port, dict) and text == "127.0.0.1"):
                problems.append(f"{name}: port {port!r} must be bound to 127.0.0.1")
    postgres, migrate, app = services["postgres"], services["migrate"], services["app"]
    if "pg_isready" not in json.dumps(postgres.get("healthcheck", {}).get("test", "")):
        problems.append("postgres: healthcheck should use pg_isready")
    command = migrate.get("command")
    argv = shlex.split(command) if isinstance(command, str) else list(command or [])
    if argv[-1:] != ["migrate"]:
        problems.append(f"migrate: command {command!r} should run the migrate command")
    if str(migrate.get("restart", "")) != "no":
        problems.append("migrate: restart must be \"no\" (a one-shot job)")
    if (migrate.get("depends_on") or {}).get("postgres", {}).get("condition") != "service_healthy":
        problems.append("migrate: must wait for postgres to be healthy")
    if (app.get("depends_on") or {}).get("migrate", {}).get("condition") != "service_completed_successfully":
        problems.append("app: must wait for migrate to complete successfully")
    if migrate.get("image") != app.get("image"):
        problems.append("migrate and app must run the same image")
    if app.get("read_only") is not True:
        problems.append("app: read_only root filesystem expected")
    if not any(str(mount).split(":")[0] == "/tmp" for mount in app.get("tmpfs") or []):
        problems.append("app: tmpfs for /tmp expected (read-only root filesystem, Prometheus multiprocess files)")
    if not app.get("healthcheck"):
        problems.append("app: healthcheck missing")
    env = _environment(app)
    graceful = float(env.get("AGNO_GRACEFUL_TIMEOUT", "30"))
    if "stop_grace_period" not in app:
        problems.append("app: stop_grace_period missing (Docker's default of 10 s cuts the graceful drain short)")
    elif parse_duration(app["stop_grace_period"]) <= graceful:
        problems.append(f"app: stop_grace_period {app['stop_grace_period']} must exceed AGNO_GRACEFUL_TIMEOUT"
                        f" ({graceful:g} s, the drain included)")
    if not (env.get("PROMETHEUS_MULTIPROC_DIR") or "").startswith("/tmp/"):
        problems.append("app: PROMETHEUS_MULTIPROC_DIR should live on the /tmp tmpfs")
    _check_timeouts("app", env, problems)
    return problems


def _check_timeouts(where: str, env: Mapping[str, str], problems: list[str]) -> None:
    statement_ms = int(env.get("AGNO_STATEMENT_TIMEOUT_MS", "30000"))
    worker_s = int(env.get("AGNO_WORKER_TIMEOUT", "60"))
    if statement_ms and statement_ms >= worker_s * 1000:
        problems.append(f"{where}: AGNO_STATEMENT_TIMEOUT_MS ({statement_ms}) must be below AGNO_WORKER_TIMEOUT ({worker_s} s)")
    # The drain is the first part of gunicorn's graceful timeout (gunicorn refuses to start otherwise).
    drain_s = int(env.get("AGNO_DRAIN_SECONDS", "5"))
    graceful_s = int(env.get("AGNO_GRACEFUL_TIMEOUT", "30"))
    if drain_s and drain_s >= graceful_s:
        problems.append(f"{where}: AGNO_DRAIN_SECONDS ({drain_s}) must be below AGNO_GRACEFUL_TIMEOUT ({graceful_s} s)")


# --- rendered Helm chart ---------------------------------------------------------------------

def _by_kind(documents: Iterable[Mapping[str, Any]], kind: str) -> list[Mapping[str, Any]]:
    return [doc for doc in documents if doc.get("kind") == kind]


def _hook_phases(doc: Mapping[str, Any]) -> set[str]:
    hooks = ((doc.get("metadata") or {}).get("annotations") or {}).get("helm.sh/hook", "")
    return {phase.strip() for phase in hooks.split(",") if phase.strip()}


def _hook_weight(doc: Mapping[str, Any]) -> int:
    return int(((doc.get("metadata") or {}).get("annotations") or {}).get("helm.sh/hook-weight", "0"))


def prestop_seconds(container: Mapping[str, Any]) -> float:
    """Seconds the container's preStop hook sleeps (exec `python -c ...time.sleep(N)`, exec
    `sleep N`, or the sleep action); 0 without one."""
    pre_stop = ((container.get("lifecycle") or {}).get("preStop")) or {}
    if "sleep" in pre_stop:
        return float(pre_stop["sleep"]["seconds"])
    command = (pre_stop.get("exec") or {}).get("command") or []
    if not command:
        return 0.0
    if command[0].rsplit("/", 1)[-1] == "sleep" and len(command) == 2:
        return float(command[1])
    match = _SLEEP_CALL.search(" ".join(command))
    if match is None:
        raise ValueError(f"cannot tell how long the preStop hook {command!r} sleeps")
    return float(match.group(1))


def _check_pod_security(where: str, pod_spec: Mapping[str, Any], problems: list[str]) -> None:
    pod_ctx = pod_spec.get("securityContext") or {}
    if pod_spec.get("automountServiceAccountToken") is not False:
        problems.append(f"{where}: automountServiceAccountToken must be false")
    mounts_tmp = {volume["name"] for volume in pod_spec.get("volumes") or [] if "emptyDir" in volume}
    for container in pod_spec.get("containers") or []:
        name = f"{where}/{container.get('name')}"
        ctx = container.get("securityContext") or {}

        def setting(key: str, ctx: Mapping[str, Any] = ctx) -> Any:
            return ctx.get(key, pod_ctx.get(key))

        if setting("runAsNonRoot") is not True:
            problems.append(f"{name}: runAsNonRoot must be true")
        if setting("runAsUser") in (None, 0):
            problems.append(f"{name}: runAsUser must be a non-zero uid")
        if ctx.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{name}: readOnlyRootFilesystem must be true")
        if ctx.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation must be false")
        if "ALL" not in ((ctx.get("capabilities") or {}).get("drop") or []):
            problems.append(f"{name}: capabilities must drop ALL")
        if (setting("seccompProfile") or {}).get("type") != "RuntimeDefault":
            problems.append(f"{name}: seccompProfile RuntimeDefault expected")
        if not any(mount.get("mountPath") == "/tmp" and mount.get("name") in mounts_tmp
                   for mount in container.get("volumeMounts") or []):
            problems.append(f"{name}: /tmp must be an emptyDir (read-only root filesystem)")
        image = str(container.get("image", ""))
        if "@sha256:" not in image and _image_tag(image) in ("", "latest"):
            problems.append(f"{name}: image {image!r} needs a version tag or a digest, never latest")
        for variable in container.get("env") or []:
            if variable.get("name") in SECRET_VARIABLES and "value" in variable:
                problems.append(f"{name}: {variable['name']} as a plain env value; it belongs in a Secret")
        if not ((container.get("resources") or {}).get("requests")):
            problems.append(f"{name}: resource requests missing")


def check_chart(documents: list[Mapping[str, Any]]) -> list[str]:
    problems: list[str] = []
    deployments = _by_kind(documents, "Deployment")
    configmaps = {doc["metadata"]["name"]: doc.get("data") or {} for doc in _by_kind(documents, "ConfigMap")}
    if len(deployments) != 1:
        return [f"expected exactly one Deployment, found {len(deployments)}"]
    deployment = deployments[0]
    pod = deployment["spec"]["template"]
    spec = pod["spec"]
    _check_pod_security("Deployment", spec, problems)
    containers = spec.get("containers") or []
    container = containers[0]
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            if name not in configmaps:
                problems.append(f"Deployment: envFrom ConfigMap {name!r} is not part of the release")
            env.update(configmaps.get(name, {}))
    for name, data in configmaps.items():
        for variable in SECRET_VARIABLES:
            if variable in data:
                problems.append(f"ConfigMap {name}: {variable} belongs in a Secret")
    if not any("secretRef" in source for source in container.get("envFrom") or []):
        problems.append("Deployment: the database URL must come from a Secret (envFrom secretRef)")
    graceful = float(env.get("AGNO_GRACEFUL_TIMEOUT", "30"))
    try:
        pre_stop = prestop_seconds(container)
    except ValueError as exc:
        problems.append(f"Deployment: {exc}")
        pre_stop = 0.0
    # SIGTERM comes after the preStop hook; gunicorn then exits within its graceful timeout, the
    # drain (AGNO_DRAIN_SECONDS, checked below it in _check_timeouts) included.
    grace = spec.get("terminationGracePeriodSeconds", 30)
    if not grace > pre_stop + graceful:
        problems.append(f"Deployment: terminationGracePeriodSeconds ({grace}) must exceed preStop ({pre_stop:g} s)"
                        f" + AGNO_GRACEFUL_TIMEOUT ({graceful:g} s, the drain included)")
    _check_timeouts("ConfigMap", env, problems)
    ports = {port.get("name"): port.get("containerPort") for port in container.get("ports") or []}
    if "http" not in ports:
        problems.append("Deployment: container port named 'http' missing")
    elif str(ports["http"]) != str(env.get("AGNO_SERVICE_PORT", "8080")):
        problems.append(f"Deployment: containerPort {ports['http']} differs from AGNO_SERVICE_PORT"
                        f" {env.get('AGNO_SERVICE_PORT', '8080 (default)')}")
    for probe, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        http_get = (container.get(probe) or {}).get("httpGet") or {}
        if http_get.get("path") != path or http_get.get("port") not in ("http", ports.get("http")):
            problems.append(f"Deployment: {probe} must GET {path} on the http port (found {http_get or 'none'})")
    command = container.get("command") or []
    if command and command[0] != "gunicorn":
        problems.append(f"Deployment: command {command!r} must start gunicorn directly (PID 1)")

    pod_labels = pod["metadata"].get("labels") or {}
    selected_by: list[tuple[str, Mapping[str, str]]] = []
    for service in _by_kind(documents, "Service"):
        selected_by.append((f"Service {service['metadata']['name']}", service["spec"].get("selector") or {}))
        http = [port for port in service["spec"].get("ports") or [] if port.get("name") == "http"]
        if not http or http[0].get("targetPort") not in ("http", ports.get("http")):
            problems.append(f"Service {service['metadata']['name']}: port 'http' must target the container's http port")
    for pdb in _by_kind(documents, "PodDisruptionBudget"):
        selected_by.append((f"PodDisruptionBudget {pdb['metadata']['name']}", pdb["spec"]["selector"].get("matchLabels") or {}))
    for what, selector in selected_by:
        if not selector or any(pod_labels.get(key) != value for key, value in selector.items()):
            problems.append(f"{what}: selector {selector} does not select the Deployment's pods")

    jobs = _by_kind(documents, "Job")
    regular_names = {(doc.get("kind"), doc["metadata"]["name"]) for doc in documents if not _hook_phases(doc)}
    hook_secrets = {doc["metadata"]["name"]: doc for doc in _by_kind(documents, "Secret") if _hook_phases(doc)}
    for job in jobs:
        where = f"Job {job['metadata']['name']}"
        if not {"pre-install", "pre-upgrade"} <= _hook_phases(job):
            problems.append(f"{where}: must be a pre-install,pre-upgrade hook")
        job_spec = job["spec"]["template"]["spec"]
        _check_pod_security(where, job_spec, problems)
        job_labels = job["spec"]["template"]["metadata"].get("labels") or {}
        for what, selector in selected_by:
            if selector and all(job_labels.get(key) == value for key, value in selector.items()):
                problems.append(f"{where}: its pods are selected by {what}")
        # A pre-install hook runs before any regular resource of the release exists: everything
        # the Job's pod references must be a hook created earlier (lower weight) or come from
        # outside the release.
        if job_spec.get("serviceAccountName") and ("ServiceAccount", job_spec["serviceAccountName"]) in regular_names:
            problems.append(f"{where}: uses the release's ServiceAccount, which does not exist yet during pre-install")
        for job_container in job_spec.get("containers") or []:
            for source in job_container.get("envFrom") or []:
                for kind, key in (("Secret", "secretRef"), ("ConfigMap", "configMapRef")):
                    if key not in source:
                        continue
                    name = source[key]["name"]
                    if (kind, name) in regular_names:
                        problems.append(f"{where}: reads {kind} {name}, which does not exist yet during pre-install")
                    hook = hook_secrets.get(name) if kind == "Secret" else None
                    if hook is not None and _hook_weight(hook) >= _hook_weight(job):
                        problems.append(f"{where}: hook Secret {name} must have a lower hook-weight than the Job")
            if "migrate" not in (job_container.get("command") or []) + (job_container.get("args") or []):
                problems.append(f"{where}: expected to run the migrate command")
    return problems
