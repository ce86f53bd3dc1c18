from flask import Blueprint

bp = Blueprint("sessions", __name__, url_prefix="/sessions")

from . import routes  # noqa: E402,F401  (registers the views on bp)
