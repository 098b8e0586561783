"""RULES §12 sign-in codes by SMS in the browser: a user adds a UK mobile, proves it holds
it with the code texted to it (through GOV.UK Notify's stand-in in the stack's mail sink),
then signs in with a code by text message; it can still ask for the code by email."""

from __future__ import annotations

import random
import re

import pytest

from tests.support.browser_support import PASSWORD, make_user

pytestmark = pytest.mark.slow


def texts(mailbox, phone: str, words: str) -> list[str]:
    return [m["body"] for m in mailbox.messages(phone)
            if m.get("kind") == "notify_sms" and words in m.get("body", "")]


def latest_code(mailbox, phone: str, words: str, after: int) -> str:
    from tests.support.infra import wait_for

    body = wait_for(lambda: (t := texts(mailbox, phone, words)) and len(t) > after and t[-1],
                    30, f"a text message to {phone}", interval=0.2)
    return re.match(r"\d{6}", body)[0]


def test_a_user_verifies_a_phone_and_signs_in_with_a_code_by_sms(stack, visitor, mailbox):
    email = make_user("auditor")
    number = f"07700 900{random.randrange(1000):03d}"
    phone = "+44" + number.replace(" ", "")[1:]
    person = visitor("sms-sign-in")
    person.sign_in(email, label="email code")
    person.goto("/account/phone", "add a phone")
    person.fill({"phone": "01273 123456"})
    person.submit("Send a code to this phone", "landline refused")
    assert "UK mobile number" in person.page.inner_text(".govuk-error-summary")
    person.fill({"phone": number})
    person.submit("Send a code to this phone", "check your phone")
    code = latest_code(mailbox, phone, "confirm this phone", 0)
    person.fill({"code": "000000" if code != "000000" else "111111"})
    person.submit("Confirm phone", "wrong code")
    assert "text message" in person.page.inner_text(".govuk-error-summary")
    person.fill({"code": code})
    person.submit("Confirm phone", "phone verified")
    assert f"ending {phone[-3:]}" in person.page.inner_text("main")

    person.page.get_by_role("button", name="Sign out").click()
    person.check("signed out")
    before = len(texts(mailbox, phone, "to sign in"))
    person.fill({"email": email, "password": PASSWORD})
    person.submit("Continue", "code by text message")
    assert person.heading() == "Check your phone"
    person.fill({"code": latest_code(mailbox, phone, "to sign in", before)})
    person.submit("Sign in", "signed in by sms")
    assert person.heading() == "Auditor Tester"

    # the phone is not at hand: the code by email instead
    person.page.get_by_role("button", name="Sign out").click()
    person.check("signed out again")
    emails = mailbox.count(email, "DPS sign-in code")
    person.fill({"email": email, "password": PASSWORD})
    person.submit("Continue", "code by text message again")
    person.submit("Send the code by email instead", "code by email instead")
    message = mailbox.wait(email, "DPS sign-in code", after=emails)
    person.fill({"code": message["subject"].rsplit(" ", 1)[-1]})
    person.submit("Sign in", "signed in by email")
    assert person.heading() == "Auditor Tester"
