"""Superset's settings for the loyalty dashboards, the same for `make bi` and docker-compose.

Superset imports this file (``SUPERSET_CONFIG_PATH``); it runs in Superset's own virtualenv, so it
imports nothing of the project. What it reads from the environment:

``LOYALTY_BI_HOME``     Superset's state: the metadata DB ``superset.db`` (SQLite), the secret key
                        ``secret_key`` (``python -m loyalty.bi`` generates it once, mode 0600) and
                        the font files under ``static/fonts``. ``make bi``: ``<data>/bi``.
``SUPERSET_SECRET_KEY`` the secret key itself, instead of the file (docker-compose's ``.env``).
``LOYALTY_BI_STATIC``   where the font files are, if not ``<LOYALTY_BI_HOME>/static``.

Nothing leaves the machine: the content security policy lets the browser load nothing but this
server (it blocks Superset's telemetry pixel, map tiles, web fonts and CDNs), no map tiles or
Mapbox key are configured, and no feature that calls out (reports, thumbnails, Slack) is on.
Results are not cached (``NullCache``): a dashboard's refresh shows the night published last.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Blueprint, Flask
from jinja2 import ChoiceLoader, FileSystemLoader

BI_HOME = Path(os.environ.get("LOYALTY_BI_HOME", "/app/superset_home")).expanduser()
STATIC = Path(os.environ.get("LOYALTY_BI_STATIC") or BI_HOME / "static").expanduser()
HERE = Path(__file__).resolve().parent


def _secret_key() -> str:
    if os.environ.get("SUPERSET_SECRET_KEY"):
        return os.environ["SUPERSET_SECRET_KEY"]
    path = BI_HOME / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        raise RuntimeError(
            f"no Superset secret key: {path} does not exist and SUPERSET_SECRET_KEY is not set; "
            "`make bi` (python -m loyalty.bi setup) writes one") from None


SECRET_KEY = _secret_key()
SQLALCHEMY_DATABASE_URI = f"sqlite:///{BI_HOME / 'superset.db'}"
APP_NAME = "Loyalty BI"

# --- no outbound call -----------------------------------------------------------------------------
# The browser may load scripts, styles, images, fonts and data from this server only. Superset 6.1's
# frontend renders a telemetry pixel (apachesuperset.gateway.scarf.sh) unconditionally: without
# the domain in img-src the browser never requests it.
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
CONTENT_SECURITY_POLICY_WARNING = False
THEME_FONT_URL_ALLOWED_DOMAINS: list[str] = []  # no web fonts from Google or Adobe
MAPBOX_API_KEY = ""
# no OpenStreetMap / Mapbox tiles: one base map, a path of this server that has no tiles (the frontend
# needs at least one entry)
DECKGL_BASE_MAP = [["tile:///loyalty_static/no-base-map/{z}/{x}/{y}.png", "No base map (offline)"]]
ENABLE_CORS = False
CORS_OPTIONS: dict = {"origins": []}
DOCUMENTATION_URL = None
BUG_REPORT_URL = None
TROUBLESHOOTING_LINK = ""
FEATURE_FLAGS = {
    "ALERT_REPORTS": False,  # e-mail / Slack
    "THUMBNAILS": False,  # headless browser screenshots
    "ENABLE_TEMPLATE_PROCESSING": False,
    "DASHBOARD_RBAC": False,
}

# --- fresh data after every night -----------------------------------------------------------------
# No results cache: every chart query opens the serving file anew (NullPool, read-only), so the
# refresh after a night is published shows it. The filter and form-data state caches stay in the
# metadata DB as Superset needs them.
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
SQLLAB_TIMEOUT = 60
SUPERSET_WEBSERVER_TIMEOUT = 120

# --- a font with Chinese glyphs ---------------------------------------------------------------------
# The project's Noto Sans SC (loyalty.quality.fonts) served from this server at /loyalty_static/fonts/,
# declared by the head template in bi/templates and named in the theme's font stack after Inter
# (Superset's own font, which has no CJK glyphs), so Chinese titles render without a system font.
CJK_FAMILY = "Noto Sans SC"
BLUEPRINTS = [Blueprint("loyalty_static", __name__, static_folder=str(STATIC), static_url_path="/loyalty_static")]


def FLASK_APP_MUTATOR(app: Flask) -> None:  # noqa: N802 (Superset's name)
    """Our templates first: ``head_custom_extra.html`` (included in every page) adds the @font-face."""
    app.jinja_loader = ChoiceLoader([FileSystemLoader(str(HERE / "templates")), app.jinja_loader])


_FONT_STACK = f"Inter, '{CJK_FAMILY}', Helvetica, Arial, sans-serif"
THEME_DEFAULT = {
    "token": {
        "brandAppName": APP_NAME,
        "brandLogoAlt": APP_NAME,
        "brandLogoUrl": "/static/assets/images/superset-logo-horiz.png",
        "brandLogoMargin": "18px 0",
        "brandLogoHref": "/",
        "brandLogoHeight": "24px",
        "colorPrimary": "#2893B3",
        "colorLink": "#2893B3",
        "colorError": "#e04355",
        "colorWarning": "#fcc700",
        "colorSuccess": "#5ac189",
        "colorInfo": "#66bcfe",
        "fontUrls": [],
        "fontFamily": _FONT_STACK,
        "fontFamilyCode": "'IBM Plex Mono', 'Courier New', monospace",
        "transitionTiming": 0.3,
        "brandIconMaxWidth": 37,
        "fontSizeXS": "8",
        "fontSizeXXL": "28",
        "fontWeightNormal": "400",
        "fontWeightLight": "300",
        "fontWeightStrong": "500",
        "fontWeightBold": "700",
        "colorEditorSelection": "#fff5cf",
    },
    "algorithm": "default",
}
THEME_DARK = None  # one theme: the dashboards' greys (incomplete periods, small samples) are chosen on white
