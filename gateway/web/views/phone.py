"""A phone for sign-in codes by SMS (RULES §12): a signed-in user adds a UK mobile number,
proves it holds it with a 6-digit code sent to it, and from then on gets its sign-in codes
by text message (an authenticator app, where set, still comes first). The user can change
the number or stop using it. A code works once, for the configured minutes, only for the
number it was sent to, and five wrong tries end it; a user gets at most
``portal_sms_rate_limit`` texts (5 an hour). Every change is audited
(``accounts.set_phone``)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, session

from gateway.web import accounts, sms
from gateway.web.pages import config, engine, now, page, signed_in

bp = Blueprint("web_phone", __name__)
TRIES = 5


def _page(errors=None, **extra):
    return page("phone.html", title="Sign-in codes by text message", phone=g.user.phone,
                shown=sms.masked(g.user.phone), form=request.form, errors=errors or [],
                **extra)


@bp.get("/account/phone")
@signed_in()
def index():
    return _page()


@bp.post("/account/phone")
@signed_in()
def send_check():
    phone = sms.uk_mobile(request.form.get("phone", ""))
    if phone is None:
        return _page([{"field": "phone", "text": "Enter a UK mobile number, like 07700 900 982"}])
    if not sms.within_limit(config(), g.user.id):
        return _page([{"field": "phone", "text": "You have asked for too many text messages: "
                       "try again in an hour"}])
    code = accounts.issue(engine(), now(), g.user, accounts.PHONE_CHECK,
                          config().portal_code_seconds, bound_to=phone)
    try:
        sms.send(config(), phone, f"{code} is your code to confirm this phone for the "
                 "children's placements DPS. If you did not ask for it, ignore this message.")
    except sms.SmsFailed:
        return _page([{"field": "phone", "text": "We could not send a text message to this "
                       "number. Check it and try again"}])
    session["phone_candidate"], session["phone_tries"] = phone, 0
    return redirect("/account/phone/confirm")


@bp.route("/account/phone/confirm", methods=["GET", "POST"])
@signed_in()
def confirm():
    phone = session.get("phone_candidate")
    if not phone:
        return redirect("/account/phone")
    context = {"title": "Check your phone", "shown": sms.masked(phone),
               "minutes": config().portal_code_seconds // 60}
    if request.method == "GET":
        return page("phone_confirm.html", **context)
    if not accounts.use_code(engine(), now(), g.user, request.form.get("code", ""),
                             accounts.PHONE_CHECK, bound_to=phone):
        session["phone_tries"] = session.get("phone_tries", 0) + 1
        if session["phone_tries"] >= TRIES:
            accounts.forget_codes(engine(), g.user, accounts.PHONE_CHECK)
            session.pop("phone_candidate", None)
            return _page([{"field": "phone", "text": f"The code was wrong {TRIES} times: "
                           "enter the number again for a new code"}])
        return page("phone_confirm.html", **context, errors=[
            {"field": "code", "text": "Enter the 6-digit code from the text message"}])
    accounts.set_phone(engine(), now(), g.user, phone)
    session.pop("phone_candidate", None)
    flash(f"From now on, your sign-in codes come by text message to {sms.masked(phone)}"
          + (" when you do not use your authenticator app" if g.user.has_totp else ""))
    return redirect("/account/phone")


@bp.post("/account/phone/remove")
@signed_in()
def remove():
    if g.user.phone:
        accounts.set_phone(engine(), now(), g.user, None)
    flash("Your sign-in codes come by email again")
    return redirect("/account/phone")
