"""RULES §12 sign-in codes by SMS in the browser: a user adds a UK mobile, proves it holds
it with the code texted to it (through GOV.UK Notify's stand-in in the stack's mail sink) —
a code sent to another number does not prove it — then signs in with a code by text
message; it can still ask for the code by email; a sixth text message within the hour is
refused."""

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
    n = random.randrange(999)
    number, other_number = f"07700 900{n:03d}", f"07700 901{(n + 500) % 1000:03d}"
    phone, other_phone = ("+44" + x.replace(" ", "")[1:] for x in (number, other_number))
    person = visitor("sms-sign-in")
    person.sign_in(email, label="email code")
    tab = visitor("sms-other-session")  # the same user signed in elsewhere
    tab.sign_in(email, label="other session email code")
    person.goto("/account/phone", "add a phone")
    person.fill({"phone": "01273 123456"})
    person.submit("Send a code to this phone", "landline refused")
    assert "UK mobile number" in person.page.inner_text(".govuk-error-summary")
    person.fill({"phone": other_number})
    person.submit("Send a code to this phone", "check your phone")
    assert "It expires in 10 minutes" in person.page.inner_text("main")  # the configured time
    # the other session asks a code for its number: that code proves only that number
    tab.goto("/account/phone", "add a phone (other session)")
    tab.fill({"phone": number})
    tab.submit("Send a code to this phone", "check your phone (other session)")
    code = latest_code(mailbox, phone, "confirm this phone", 0)
    person.fill({"code": code})
    person.submit("Confirm phone", "code for another number refused")
    assert "text message" in person.page.inner_text(".govuk-error-summary")
    tab.fill({"code": code})
    tab.submit("Confirm phone", "phone verified")
    assert f"ending {phone[-3:]}" in tab.page.inner_text("main")
    person.goto("/account/phone", "phone verified (first session)")
    assert f"ending {phone[-3:]}" in person.page.inner_text("main")
    assert f"ending {other_phone[-3:]}" not in person.page.inner_text("main")

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

    # at most 5 texts an hour to one user (2 checks and 2 sign-in codes so far): one more
    # code is sent, the next is refused before anything is sent (§12)
    person.goto("/account/phone", "change the phone")
    person.fill({"phone": number})
    person.submit("Send a code to this phone", "fifth text message")
    sent = len(texts(mailbox, phone, "confirm this phone"))
    person.goto("/account/phone", "change the phone again")
    person.fill({"phone": number})
    person.submit("Send a code to this phone", "too many text messages")
    assert "too many text messages" in person.page.inner_text(".govuk-error-summary")
    assert len(texts(mailbox, phone, "confirm this phone")) == sent  # sent synchronously
