# syntax=docker/dockerfile:1
#
# agno-session-service image: gunicorn + Flask, non-root, no build tools in the final stage.
#
#   docker build -t agno-session-service:0.1.0 .
#   docker run --rm -p 127.0.0.1:8080:8080 -e AGNO_PG_DSN=postgresql://user:pass@host:5432/db agno-session-service:0.1.0
#
# The base image is pinned by its exact tag. In production pin it by digest as well (the tag can be
# re-pushed; the digest cannot), e.g. PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:<digest>, the
# digest taken from `docker buildx imagetools inspect python:3.11.14-slim-bookworm`, and let a bot
# (Renovate, Dependabot) propose updates.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# ---------------------------------------------------------------------------------------------
# Build stage: a virtualenv in /opt/venv with the project and its pinned dependencies (setup.cfg).
# Every dependency ships a binary wheel for CPython 3.11 (psycopg[binary], orjson), so no compiler
# is needed even here.
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# Only what the package build reads; .dockerignore keeps everything else out of the context.
COPY pyproject.toml setup.cfg README.md constraints.txt ./
COPY app/ app/
# A regular (non-editable) install: the package lands in the venv's site-packages, byte-compiled,
# so nothing needs writing at run time (read-only root filesystem). constraints.txt pins every
# run-time package, not only the direct ones.
RUN pip install --no-cache-dir -c constraints.txt .

# ---------------------------------------------------------------------------------------------
# Final stage: the venv, the WSGI entry point, the gunicorn settings and the alembic scripts.
FROM ${PYTHON_IMAGE} AS final

ARG PYTHON_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="agno-session-service" \
      org.opencontainers.image.description="The agno AgentOS /sessions REST API served straight from AgentOS's PostgreSQL (or SQLite) tables" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${PYTHON_IMAGE}"

# A fixed numeric uid/gid, so Kubernetes can verify runAsNonRoot and volumes can be chowned ahead.
RUN groupadd --system --gid 10001 agno \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin agno

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    AGNO_SERVICE_PORT=8080 \
    AGNO_MIGRATIONS_DIR=/app/migrations \
    PROMETHEUS_MULTIPROC_DIR=/tmp/metrics

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
COPY wsgi.py gunicorn.conf.py ./
COPY migrations/ migrations/
# With no database configured the service creates an embedded SQLite file in ./data: give the
# runtime user that one directory so a bare `docker run` works (mount a volume there to keep it).
RUN install -d -o 10001 -g 10001 -m 0750 /app/data

USER 10001:10001
EXPOSE 8080

# Liveness only (no database): python's urllib, since the slim image has no curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('AGNO_SERVICE_PORT', '8080'), timeout=4)"]

# gunicorn is PID 1 (exec form), so SIGTERM reaches its master and starts the graceful drain.
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
