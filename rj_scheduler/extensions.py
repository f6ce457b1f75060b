"""The Flask extensions, created unbound here and bound in ``create_app``."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from rj_scheduler.db import Base
from rj_scheduler.i18n import Babel


def client_address() -> str:
    """The client's address as the proxy configuration allows us to trust it."""
    from flask import request

    return request.remote_addr or "unknown"


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=client_address, default_limits=[])
babel = Babel()
