"""RULES §12 invitations and password reset in the browser: the lead's administrator
invites the first user (administrator) of an authority, who sets a password from the
single-use emailed link and signs in with a second factor; a forgotten password is reset
by a single-use link."""

from __future__ import annotations

import uuid

import pytest

from tests.support.browser_support import PASSWORD, make_user

pytestmark = pytest.mark.slow
NEW_PASSWORD = "a quiet harbour at dusk"


def test_the_lead_invites_an_authoritys_first_user_who_signs_in(stack, visitor, mailbox):
    lead = visitor("lead-invites")
    lead.sign_in(make_user("lead"), label="lead sign in")
    lead.goto("/people", "people")
    invitee = f"officer-{uuid.uuid4().hex[:8]}@bhcc.example"
    lead.fill({"name": "Bea Officer", "email": invitee})
    lead.page.locator("#role").select_option("commissioner")
    lead.page.locator("#authority").select_option("BHCC")
    lead.submit("Send invitation", "invited")
    assert invitee in lead.page.inner_text(".govuk-notification-banner")

    message = mailbox.wait(invitee, "You are invited")
    link = mailbox.link(message, stack.url)
    person = visitor("invitee")
    person.goto(link, "create password")
    person.fill({"password": "password1234", "password_again": "password1234"})
    person.submit("Save password", "common password refused")
    assert "too common" in person.page.inner_text(".govuk-error-summary")
    person.fill({"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    person.submit("Save password", "password saved")
    person.sign_in(invitee, NEW_PASSWORD, label="invitee sign in")
    assert "commissioner, BHCC" in person.page.content()
    person.goto("/people", "invitee's people")
    assert person.page.get_by_role("button", name="Send invitation").count() == 1  # admin
    assert person.page.goto(link).status == 404  # the link works once


def test_a_forgotten_password_is_reset_by_a_single_use_link(stack, visitor, mailbox):
    email = make_user("auditor")
    person = visitor("reset")
    person.goto("/password-reset", "reset request")
    person.fill({"email": email})
    person.submit("Send a reset link", "reset sent")
    link = mailbox.link(mailbox.wait(email, "Reset your DPS password"), stack.url)
    person.goto(link, "choose a new password")
    person.fill({"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    person.submit("Save password", "password changed")
    person.fill({"email": email, "password": PASSWORD})
    person.submit("Continue", "old password refused")
    assert "Enter a correct email address and password" in person.page.content()
    person.sign_in(email, NEW_PASSWORD, label="new password")
    assert person.heading() == "Auditor Tester"
