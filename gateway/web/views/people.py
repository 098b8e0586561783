"""Invitations and colleagues (RULES §12): an administrator invites, disables and
re-enables colleagues of its own principal; the lead's administrators also invite the first
user (the administrator) of each authority and central role."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, request

from gateway.auth import ROLES
from gateway.web import accounts, mail
from gateway.web.pages import config, engine, now, page, signed_in
from gateway.web.sessions import end_sessions_of
from services.common.config import get_settings

bp = Blueprint("web_people", __name__)


def _context(**extra):
    return {"title": "People", "people": accounts.colleagues(engine(), g.user),
            "authorities": get_settings().authorities,
            "roles": [r for r in ROLES if r != "provider"], "form": request.form, **extra}


@bp.get("/people")
@signed_in()
def people():
    return page("people.html", **_context())


@bp.post("/people")
@signed_in()
def invite():
    me = g.user
    if not me.is_admin:
        abort(403)
    form = request.form
    role, authority, provider_id = me.role, me.authority, me.provider_id
    first = False
    if me.role == "lead" and form.get("role") and form.get("role") != "lead":
        role = form["role"]
        authority = form.get("authority") if role == "commissioner" else None
        if role not in ROLES or role == "provider" or (role == "commissioner" and
                                                      authority not in get_settings().authorities):
            return page("people.html", **_context(errors=[
                {"field": "role", "text": "Choose a role, and an authority for a commissioner"}]))
        if accounts.principal_has_users(engine(), role, authority, None):
            return page("people.html", **_context(errors=[
                {"field": "role", "text": "That organisation already has an administrator, "
                 "who invites its colleagues"}]))
        first = True
    errors = []
    if "@" not in form.get("email", ""):
        errors.append({"field": "email", "text": "Enter an email address, like name@example.com"})
    elif accounts.by_email(engine(), form["email"]):
        errors.append({"field": "email", "text": "Someone already has an account with this "
                       "email address"})
    if not form.get("name", "").strip():
        errors.append({"field": "name", "text": "Enter the person's full name"})
    if errors:
        return page("people.html", **_context(errors=errors))
    user = accounts.create(engine(), now(), email=form["email"], name=form["name"], role=role,
                           authority=authority, provider_id=provider_id, is_admin=first,
                           invited_by=me)
    token = accounts.issue(engine(), now(), user, accounts.INVITATION,
                           config().portal_invitation_seconds)
    mail.send(config(), user.email, "You are invited to the children's placements DPS",
              f"{me.name} has invited you to the children's placements DPS.\n\n"
              f"To create your password, open\n\n{config().base_url()}/invitations/{token}\n\n"
              "The link works once, for 7 days.\n")
    flash(f"We have emailed an invitation to {user.email}")
    return redirect("/people")


@bp.post("/people/<user_id>/<action>")
@signed_in()
def change(user_id, action):
    if action not in ("disable", "enable") or not g.user.is_admin:
        abort(404)
    target = next((u for u in accounts.colleagues(engine(), g.user) if u.id == user_id), None)
    if target is None or target.id == g.user.id:
        abort(404)
    accounts.set_status(engine(), now(), target, "disabled" if action == "disable" else "active",
                        g.user)
    if action == "disable":
        end_sessions_of(engine(), target.id)
    flash(f"{target.email} is {'disabled' if action == 'disable' else 'enabled again'}")
    return redirect("/people")
