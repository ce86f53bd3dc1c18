"""Request handling that sits in front of the routes: slashes, CORS, auth, HEAD/OPTIONS."""

from __future__ import annotations

import hmac
from urllib.parse import quote, unquote_to_bytes

from flask import Flask, Response, current_app, g, request

from .errors import BadRequest, Unauthorized, error_response

# With OS_SECURITY_KEY set, only the probes answer without the key (liveness and readiness checks
# carry no credentials). /metrics, /openapi.json and /docs need it like the session routes: a
# Prometheus scrape job sends it with `authorization: {credentials: <key>}`.
PUBLIC_PATHS = ("/health", "/healthz", "/readyz")
CORS_METHODS = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, QUERY"


ADK_BLUEPRINTS = ("adk", "adk_api")
SLASH_REDIRECT = "agno.slash_redirect"


class StripTrailingSlashes:
    """`/sessions/` is `/sessions`: AgentOS strips every trailing slash, without a redirect.
    ADK's api_server (Starlette) answers a 307 to the path without them instead, when that path
    is one of its routes: the path is stripped here and the redirect made in before_request,
    once the route is known."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if len(path) > 1 and path.endswith("/"):
            environ["PATH_INFO"] = path.rstrip("/") or "/"
            environ[SLASH_REDIRECT] = True
        return self.wsgi_app(environ, start_response)


def _slash_redirect() -> Response:
    url = quote(request.root_path + request.path, safe="/:@!$&'()*+,;=-._~")
    query = request.environ.get("QUERY_STRING", "")
    location = f"{request.scheme}://{request.host}{url}" + (f"?{query}" if query else "")
    resp = Response(status=307, headers={"Location": location})
    del resp.headers["Content-Type"]  # an empty body of no type, as Starlette's redirect
    return resp


def _allowed_origin(origin: str | None) -> bool:
    return bool(origin) and origin in current_app.config["SETTINGS"].cors_origins


def _preflight() -> Response:
    """Starlette's CORS preflight as AgentOS configures it (contract §1.7)."""
    g.cors_preflight = True
    origin = request.headers.get("Origin")
    headers = {
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": CORS_METHODS,
        "Access-Control-Max-Age": "600",
        "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, "
                "Access-Control-Request-Private-Network",
    }
    if not _allowed_origin(origin):
        resp = Response("Disallowed CORS origin", status=400, mimetype="text/plain")
        resp.headers.update(headers)
        return resp
    resp = Response("OK", status=200, mimetype="text/plain")
    resp.headers.update(headers)
    resp.headers["Access-Control-Allow-Origin"] = origin
    requested = request.headers.get("Access-Control-Request-Headers")
    if requested:
        resp.headers["Access-Control-Allow-Headers"] = requested
    return resp


def _check_auth() -> None:
    key = current_app.config["SETTINGS"].security_key
    if not key or request.path in PUBLIC_PATHS:
        return
    header = request.headers.get("Authorization")
    if not header:
        raise Unauthorized("Authorization header required")
    parts = header.split()
    if len(parts) == 2 and parts[0].lower() == "bearer":
        token = parts[1]
    elif len(parts) == 1:
        token = parts[0]
    else:
        raise Unauthorized("Invalid authentication token")
    if not hmac.compare_digest(token.encode(), key.encode()):
        raise Unauthorized("Invalid authentication token")


def _check_utf8() -> None:
    """The percent-decoded path and query must be UTF-8. Werkzeug (like uvicorn) would replace
    bad bytes with U+FFFD, so `/sessions/%FF` and `/sessions/%FE` would both name the session
    whose id is U+FFFD (and a delete would delete it): refused instead."""
    environ = request.environ
    try:
        environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise BadRequest("Invalid UTF-8 in the request path") from None
    query = environ.get("QUERY_STRING", "")
    if "%" in query or not query.isascii():
        try:
            unquote_to_bytes(query.encode("latin-1")).decode("utf-8")
        except UnicodeError:
            raise BadRequest("Invalid UTF-8 in the query string") from None


def before_request():
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers \
            and "Origin" in request.headers:
        return _preflight()
    _check_auth()
    _check_utf8()
    if request.environ.get(SLASH_REDIRECT) and request.blueprint in ADK_BLUEPRINTS:
        # ADK's routes answer a trailing slash as Starlette does, with a redirect; HEAD and
        # OPTIONS get FastAPI's 405 there too.
        return _slash_redirect()
    if request.method == "HEAD":
        # AgentOS answers HEAD with 405 and no body, even on GET routes (contract #321).
        return Response(status=405, mimetype="application/json")
    if request.method == "OPTIONS":
        return error_response(405, "Method Not Allowed")
    return None


def after_request(resp: Response) -> Response:
    """CORS headers of a simple request: credentials and exposed headers whenever an Origin is
    sent, the origin itself only when it is allowed; AgentOS's 401 to an allowed origin also
    allows every method and header."""
    origin = request.headers.get("Origin")
    if origin and not g.get("cors_preflight"):
        resp.headers["Access-Control-Allow-Credentials"] = "true"
        resp.headers["Access-Control-Expose-Headers"] = "*"
        if _allowed_origin(origin):
            resp.headers["Access-Control-Allow-Origin"] = origin
            if resp.status_code == 401:
                resp.headers["Access-Control-Allow-Methods"] = "*"
                resp.headers["Access-Control-Allow-Headers"] = "*"
    if "Vary" not in resp.headers:
        resp.headers["Vary"] = "Origin"
    return resp


def init_http(app: Flask) -> None:
    app.wsgi_app = StripTrailingSlashes(app.wsgi_app)
    app.before_request(before_request)
    app.after_request(after_request)
