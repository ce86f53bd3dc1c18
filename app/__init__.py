"""agno-session-service: the agno AgentOS `/sessions` API served from agno's own tables."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import Settings, load_settings
from .db.engines import init_engines
from .errors import register_error_handlers
from .health import started_now
from .http import init_http
from .requestlog import init_request_log

__version__ = "0.1.0"


def create_app(config: dict | None = None) -> Flask:
    """Build the app. `config` wins over the environment; `SETTINGS` may carry a Settings."""
    # No static folder: the service serves no files of its own (Swagger UI's come from
    # app/openapi.py's route), and Flask's `/static/<path:filename>` rule would be one more route.
    app = Flask(__name__, static_folder=None)
    if config:
        app.config.update(config)
    settings = app.config.get("SETTINGS")
    if not isinstance(settings, Settings):
        settings = load_settings(app.config.get("ENV_VARS"))
        app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["INSTANTIATED_AT"] = started_now()
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.json.compact = True
    init_engines(app, settings)
    init_request_log(app)
    init_http(app)
    if settings.trusted_proxies:
        # Believe X-Forwarded-For/-Proto/-Host/-Port from exactly this many proxies in front of us
        # (the client address is the one the outermost trusted proxy saw). With none trusted (the
        # default), a forged X-Forwarded-For changes nothing.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)
    register_blueprints(app)
    register_error_handlers(app)
    return app


def register_blueprints(app: Flask) -> None:
    from . import health, metrics
    from .adk.routes import bp as adk_bp
    from .sessions import bp as sessions_bp

    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(sessions_bp)
    # ADK's routes, also under `/api` (adk api_server --url_prefix /api answers both).
    app.register_blueprint(adk_bp)
    app.register_blueprint(adk_bp, url_prefix="/api", name="adk_api")
    from . import openapi
    app.register_blueprint(openapi.bp)
