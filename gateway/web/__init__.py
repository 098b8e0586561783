"""The web portal (RULES §12): server-rendered GOV.UK Frontend pages in the gateway, for
people who sign in, calling the services through the same RPC pool and ``messages.py``
models as the JSON API, so one rule (§10) serves both.

``register(app)`` adds: the server-side session interface, CSRF on every form
(Flask-WTF), security headers with a strict Content-Security-Policy (Flask-Talisman), the
GOV.UK Frontend assets under ``/assets/`` and the page blueprints.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from flask import Blueprint, abort, g, render_template, request, send_from_directory, session
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from jinja2 import ChoiceLoader, FileSystemLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from gateway.web import accounts
from gateway.web.config import PortalConfig
from gateway.web.sessions import DbSessionInterface

HERE = Path(__file__).parent
GOVUK_DIST = HERE / "node_modules" / "govuk-frontend" / "dist" / "govuk"
STATIC = HERE / "static"
SERVICE_NAME = "Children's placements DPS"
VIEWS = ("sign_in", "home", "people", "establishments", "applications", "referrals", "bids",
         "placements", "publication", "notices", "audit", "child", "notifications",
         "memberships", "inspections", "dps_settings", "categories", "uplifts", "benchmarks",
         "cost_shares", "reviews", "phone")
NO_SESSION = ("/api/", "/assets/", "/health", "/metrics", "/openapi.json")

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "object-src": "'none'",
}

csrf = CSRFProtect()

NAV = {
    None: [("/sign-in", "Sign in"), ("/register", "Register your organisation")],
    "provider": [("/", "Home"), ("/establishments", "Establishments"),
                 ("/applications", "Applications"), ("/referrals", "Invitations"),
                 ("/placements", "Placements"), ("/notifications", "Notifications"),
                 ("/people", "People")],
    "commissioner": [("/", "Home"), ("/referrals", "Referrals"), ("/placements", "Placements"),
                     ("/benchmarks", "Benchmarks"), ("/notifications", "Notifications"),
                     ("/people", "People")],
    "lead": [("/", "Home"), ("/applications", "Applications"), ("/memberships", "Memberships"),
             ("/referrals", "Referrals"), ("/placements", "Placements"), ("/dps", "DPS"),
             ("/categories", "Categories"), ("/people", "People")],
    "contract_manager": [("/", "Home"), ("/publication", "Publication"),
                         ("/placements", "Placements"), ("/uplifts", "Uplifts"),
                         ("/benchmarks", "Benchmarks"), ("/cost-shares", "Cost shares"),
                         ("/reviews", "Reviews"), ("/people", "People")],
    "auditor": [("/", "Home"), ("/audit", "Audit trail"), ("/people", "People")],
}


def is_page_request() -> bool:
    return not request.path.startswith(NO_SESSION)


def register(app) -> None:
    config = PortalConfig()
    app.extensions["dps.portal"] = config
    app.secret_key = config.secret_key()
    app.config.update(WTF_CSRF_CHECK_DEFAULT=False, WTF_CSRF_TIME_LIMIT=None,
                      WTF_CSRF_SSL_STRICT=False)
    if config.portal_trusted_proxies:
        n = config.portal_trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    app.session_interface = DbSessionInterface(app.extensions["dps.engine"], config)
    app.jinja_loader = ChoiceLoader([FileSystemLoader(str(HERE / "templates")),
                                     app.jinja_loader])
    csrf.init_app(app)
    app.jinja_env.filters["uk_time"] = uk_time
    from gateway.web.vocabulary import WEIGHT_NAMES

    app.jinja_env.globals["weight_names"] = WEIGHT_NAMES  # §6.1, one list for every page
    Talisman(app, force_https=False, content_security_policy=CSP,
             session_cookie_secure=False,  # the session interface sets Secure per request
             strict_transport_security=True, referrer_policy="same-origin",
             frame_options="DENY", permissions_policy={"geolocation": "()",
                                                       "camera": "()", "microphone": "()"})

    @app.before_request
    def _portal_user():
        if not is_page_request():
            return None
        view = app.view_functions.get(request.endpoint) if request.endpoint else None
        if getattr(view, "__dps_upload__", None):  # a file form (gateway/web/files.py)
            request.max_content_length = view.__dps_upload__
        if request.method == "POST":
            csrf.protect()
        g.user = None
        user_id = session.get("user_id")
        if user_id:
            user = accounts.get(app.extensions["dps.engine"], user_id)
            if user is None or user.status != "active":
                session.clear()
            else:
                g.user = user
                g.principal = user.principal
        ended = g.get("session_ended")
        if ended and ended.get("user_id"):
            user = accounts.get(app.extensions["dps.engine"], ended["user_id"])
            if user:
                from gateway.web.pages import now

                accounts.signed_out(app.extensions["dps.engine"], now(), user,
                                    f"{ended['reason']} timeout")
        return None

    @app.after_request
    def _no_store(response):
        """A signed-in page holds personal or commercial data: the browser keeps no copy
        (RULES §12, §13), whatever the view returns (pages, downloads, error pages)."""
        if is_page_request() and g.get("user") is not None:
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.context_processor
    def _context():
        if not is_page_request():
            return {}
        user = g.get("user")
        from gateway.web.pages import ROLE_LABELS

        return {"user": user, "service_name": SERVICE_NAME,
                "nav_items": NAV[user.role if user else None],
                "role_label": ROLE_LABELS.get(user.role, "") + (
                    f", {user.authority}" if user and user.authority else "") if user else "",
                "csrf_token": generate_csrf}

    assets = Blueprint("web_assets", __name__)

    @assets.get("/assets/portal/<path:name>")
    def portal_asset(name):
        return send_from_directory(STATIC, name, max_age=3600)

    @assets.get("/assets/<path:name>")
    def govuk_asset(name):
        if name in ("govuk-frontend.min.css", "govuk-frontend.min.js",
                    "govuk-frontend.min.css.map", "govuk-frontend.min.js.map"):
            return send_from_directory(GOVUK_DIST, name, max_age=86400)
        if name.startswith(("fonts/", "images/")):
            return send_from_directory(GOVUK_DIST / "assets", name, max_age=86400)
        abort(404)

    app.register_blueprint(assets)
    for area in VIEWS:
        app.register_blueprint(import_module(f"gateway.web.views.{area}").bp)


def uk_time(value) -> str:
    """An ISO time as UK local time, e.g. "3 December 2026, 14:05"."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if not value:
        return "–"
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at.astimezone(ZoneInfo("Europe/London")).strftime("%-d %B %Y, %H:%M")


def _too_big() -> str:
    """The 413 title with this form's own limit: a file form's 20 MB (``upload_page``),
    any other form's 2 MB (the app's ``MAX_CONTENT_LENGTH``)."""
    from gateway.web.files import FORM_OVERHEAD

    limit = request.max_content_length
    if not limit:
        return "The form is too big"
    if limit > FORM_OVERHEAD and request.mimetype == "multipart/form-data":
        return f"The file is too big: at most {(limit - FORM_OVERHEAD) / 2**20:g} MB"
    return f"The form is too big: at most {limit / 2**20:g} MB"


def error_page(status: int, detail: str = ""):
    """A GOV.UK error page for a portal request (the API answers problem+json)."""
    titles = {403: "You cannot open this page", 404: "Page not found",
              400: "Sorry, there is a problem", 409: "This cannot be done now",
              405: "Page not found",
              429: "Too many requests",
              500: "Sorry, there is a problem with the service",
              503: "Sorry, the service is unavailable"}
    if status == 413:
        titles[413] = _too_big()
    title = titles.get(status, "Sorry, there is a problem")
    return render_template("error.html", title=title, status=status, detail=detail), status


__all__ = ["CSRFError", "error_page", "is_page_request", "register"]
