"""Sign-in (RULES §12): email and password, then a second factor every time (a 6-digit
code by email, or by SMS where the user has a verified phone, or an authenticator app),
lockout after five failures in a row, sign-out, password reset, invitations, and a
provider's open registration."""

from __future__ import annotations

import pyotp
from flask import Blueprint, current_app, flash, g, redirect, request, session, url_for

from gateway.app import call, limiter
from gateway.web import accounts, mail, passwords, sms
from gateway.web.pages import (
    REFUSED,
    FormInvalid,
    config,
    engine,
    now,
    page,
    refusal,
    safe_next,
)
from gateway.web.sessions import end_sessions_of
from services.qualification.messages import ProviderCreate

bp = Blueprint("web_sign_in", __name__)
BAD = "Enter a correct email address and password"


def _locked_message() -> str:
    minutes = config().portal_lockout_seconds // 60
    return (f"Your account is locked after {config().portal_lockout_failures} failed attempts "
            f"in a row. Try again in {minutes} minutes, or reset your password.")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    nxt = safe_next(request.values.get("next"))
    if g.get("user"):
        return redirect(nxt)
    ended = g.get("session_ended") or (
        {"reason": request.args["ended"]} if request.args.get("ended") in ("idle", "absolute")
        else None)
    notice = ("You were signed out because you were inactive for "
              f"{config().portal_idle_timeout_seconds // 60} minutes." if ended and
              ended["reason"] == "idle" else
              "You were signed out because your session reached 12 hours." if ended else None)
    if request.method == "GET":
        return page("sign_in.html", title="Sign in", next=nxt, notice=notice, email="")
    email = request.form.get("email", "").strip()
    password = request.form.get("password", "")
    if not email or not password:
        errors = ([{"field": "email", "text": "Enter your email address"}] if not email else []) + (
            [{"field": "password", "text": "Enter your password"}] if not password else [])
        return page("sign_in.html", title="Sign in", next=nxt, errors=errors, email=email)
    outcome, user = accounts.check_password(engine(), config(), now(), email, password)
    if outcome != "ok":
        text = {"locked": _locked_message(),
                "disabled": "Your account is disabled: ask your organisation's administrator"
                }.get(outcome, BAD)
        return page("sign_in.html", title="Sign in", next=nxt, email=email,
                    errors=[{"field": "email", "text": text}])
    session.clear()
    session["pending_user_id"] = user.id
    session["next"] = nxt
    session.rotate()
    if not user.has_totp:
        _send_code(user)
    return redirect(url_for("web_sign_in.code"))


def _send_code(user: accounts.User) -> str:
    """A new sign-in code: by SMS to a verified phone (unless the user asked for email, the
    user had ``portal_sms_rate_limit`` texts already, or Notify fails), otherwise by email.
    Returns the channel, which the session remembers."""
    code = accounts.issue(engine(), now(), user, accounts.CODE, config().portal_code_seconds)
    minutes = config().portal_code_seconds // 60
    if (user.phone and not session.get("code_by_email")
            and sms.within_limit(config(), user.id)):  # beyond the limit: by email (§12)
        try:
            sms.send(config(), user.phone, f"{code} is your code to sign in to the children's "
                     f"placements DPS. It expires in {minutes} minutes.")
            session["code_channel"] = "sms"
            return "sms"
        except sms.SmsFailed:
            pass  # the email below still gets the user in
    session["code_channel"] = "email"
    mail.send(config(), user.email, f"DPS sign-in code: {code}",
              f"Your code to sign in to the children's placements DPS is {code}.\n\n"
              f"It expires in {minutes} minutes. If you did not try to sign in, change your "
              f"password: someone knows it.\n")
    return "email"


def _pending() -> accounts.User | None:
    user_id = session.get("pending_user_id")
    return accounts.get(engine(), user_id) if user_id else None


@bp.route("/sign-in/code", methods=["GET", "POST"])
def code():
    user = _pending()
    if user is None:
        return redirect(url_for("web_sign_in.sign_in"))
    channel = "totp" if user.has_totp else session.get("code_channel", "email")
    context = {"title": {"totp": "Enter your code", "sms": "Check your phone"}.get(
                   channel, "Check your email"),
               "totp": user.has_totp, "email": user.email, "channel": channel,
               "phone": sms.masked(user.phone), "can_use_email": channel == "sms",
               "minutes": config().portal_code_seconds // 60}
    if request.method == "GET":
        return page("sign_in_code.html", **context)
    if request.form.get("resend") and not user.has_totp:
        if request.form.get("resend") == "email":
            session["code_by_email"] = True
        sent = _send_code(user)
        flash("We have sent a new code" + (" by email" if sent == "email" else ""))
        return redirect(url_for("web_sign_in.code"))
    entered = request.form.get("code", "").strip().replace(" ", "")
    if user.has_totp:
        ok = pyotp.TOTP(accounts.totp_secret(engine(), user)).verify(entered, valid_window=1)
    else:
        ok = accounts.use_code(engine(), now(), user, entered)
    if not ok:
        if accounts.second_factor_failed(engine(), config(), now(), user):
            session.clear()
            return page("sign_in.html", title="Sign in", next="/", email=user.email,
                        errors=[{"field": "email", "text": _locked_message()}])
        return page("sign_in_code.html", **context, errors=[
            {"field": "code", "text": {
                "totp": "Enter the 6-digit code from your authenticator app",
                "sms": "Enter the 6-digit code from the latest text message"}.get(
                    channel, "Enter the 6-digit code from the latest email")}])
    nxt = session.get("next") or "/"
    session.clear()
    session["user_id"] = user.id
    session.rotate()
    accounts.signed_in(engine(), now(), user, channel)
    return redirect(safe_next(nxt))


@bp.post("/sign-out")
def sign_out():
    if g.get("user"):
        accounts.signed_out(engine(), now(), g.user, "signed out")
    session.clear()
    flash("You have signed out")
    return redirect(url_for("web_sign_in.sign_in"))


# --- registration (a provider's first user is its administrator, §12) ------------------------


def _registration_limit():
    return current_app.extensions["dps.settings"].registration_rate_limit


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_registration_limit, methods=["POST"])
def register():
    form = request.form
    context = {"title": "Register your organisation", "form": form}
    if request.method == "GET":
        return page("register.html", **context)
    errors = []
    if not form.get("your_name", "").strip():
        errors.append({"field": "your_name", "text": "Enter your full name"})
    problem = passwords.problem(form.get("password", ""), form.get("your_email", ""))
    if problem:
        errors.append({"field": "password", "text": problem})
    if form.get("password") != form.get("password_again"):
        errors.append({"field": "password_again", "text": "Passwords do not match"})
    if accounts.by_email(engine(), form.get("your_email", "")):
        errors.append({"field": "your_email", "text": "An account with this email already "
                       "exists: sign in or reset your password"})
    try:
        body = ProviderCreate(name=form.get("name", ""), contact_email=form.get("contact_email"),
                              companies_house_number=form.get("companies_house_number") or None)
    except Exception as exc:  # noqa: BLE001 - a ValidationError names the fields
        errors += refusal(exc, {"name": "Organisation name",
                                    "contact_email": "Organisation contact email",
                                    "companies_house_number": "Companies House number"})
        body = None
    if not form.get("your_email", "").strip() or "@" not in form.get("your_email", ""):
        errors.append({"field": "your_email", "text": "Enter your email address, like "
                       "name@example.com"})
    if errors:
        return page("register.html", **context, errors=errors)
    try:
        provider = call("qualification", "create_provider", body.model_dump(mode="json"))
    except REFUSED as exc:
        return page("register.html", **context, errors=refusal(exc))
    accounts.create(engine(), now(), email=form["your_email"], name=form["your_name"],
                    role="provider", provider_id=provider["id"], is_admin=True,
                    password=form["password"])
    flash(f"{provider['name']} is registered. Sign in to add your establishments.")
    return redirect(url_for("web_sign_in.sign_in"))


# --- invitations and password reset -------------------------------------------------------------


def _new_password(form, email: str) -> list[dict]:
    problem = passwords.problem(form.get("password", ""), email)
    errors = [{"field": "password", "text": problem}] if problem else []
    if form.get("password") != form.get("password_again"):
        errors.append({"field": "password_again", "text": "Passwords do not match"})
    return errors


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    return _set_password(token, accounts.INVITATION, "Create your password",
                         "Your account is ready. Sign in with your new password.")


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    return _set_password(token, accounts.RESET, "Choose a new password",
                         "Your password has changed. Sign in with it.")


def _set_password(token: str, kind: str, title: str, done: str):
    user = accounts.link_user(engine(), now(), kind, token)
    if user is None:
        html, _ = page("link_expired.html", title="This link has expired",
                       invitation=kind == accounts.INVITATION)
        return html, 404
    if request.method == "GET":
        return page("set_password.html", title=title, email=user.email)
    errors = _new_password(request.form, user.email)
    if errors:
        return page("set_password.html", title=title, email=user.email, errors=errors)
    accounts.consume_link(engine(), now(), token)
    accounts.set_password(engine(), now(), user, request.form["password"])
    end_sessions_of(engine(), user.id)
    flash(done)
    return redirect(url_for("web_sign_in.sign_in"))


@bp.route("/password-reset", methods=["GET", "POST"])
def request_reset():
    if request.method == "GET":
        return page("reset_request.html", title="Reset your password")
    email = request.form.get("email", "").strip()
    if "@" not in email:
        return page("reset_request.html", title="Reset your password",
                    errors=[{"field": "email", "text": "Enter your email address"}])
    user = accounts.by_email(engine(), email)
    if user is not None and user.status != "disabled":
        token = accounts.issue(engine(), now(), user, accounts.RESET,
                               config().portal_reset_seconds)
        mail.send(config(), user.email, "Reset your DPS password",
                  "Someone asked to reset the password of your account on the children's "
                  f"placements DPS. To choose a new one, open\n\n"
                  f"{config().base_url()}/password-reset/{token}\n\n"
                  "The link works once, for 1 hour. If it was not you, ignore this email.\n")
    flash("If an account uses that address, we have emailed it a link to reset the "
          "password. The link works for 1 hour.")
    return redirect(url_for("web_sign_in.sign_in"))


# --- an authenticator app instead of emailed codes ---------------------------------------------


@bp.route("/account/authenticator", methods=["GET", "POST"])
def authenticator():
    from gateway.web.pages import signed_in

    @signed_in()
    def inner():
        secret = session.get("totp_candidate") or pyotp.random_base32()
        session["totp_candidate"] = secret
        uri = pyotp.TOTP(secret).provisioning_uri(g.user.email, issuer_name="DPS")
        context = {"title": "Use an authenticator app", "secret": secret, "uri": uri}
        if request.method == "GET":
            return page("authenticator.html", **context)
        if not pyotp.TOTP(secret).verify(request.form.get("code", "").strip(), valid_window=1):
            raise FormInvalid([{"field": "code", "text": "Enter the 6-digit code your app "
                                "shows"}])
        accounts.set_totp(engine(), now(), g.user, secret)
        session.pop("totp_candidate", None)
        flash("From now on, sign in with a code from your authenticator app")
        return redirect("/")

    try:
        return inner()
    except FormInvalid as exc:
        secret = session["totp_candidate"]
        return page("authenticator.html", title="Use an authenticator app", secret=secret,
                    uri=pyotp.TOTP(secret).provisioning_uri(g.user.email, issuer_name="DPS"),
                    errors=exc.errors)
