"""Pure parts of the web portal (issue 11, RULES §12): password rules, Argon2id, form
nesting for the messages.py models, safe redirects and error summaries naming fields."""

from __future__ import annotations

from pydantic import ValidationError
from werkzeug.datastructures import MultiDict

from gateway.web import passwords
from gateway.web.pages import errors_from, nest, safe_next
from services.common.errors import InvalidInput
from services.qualification.messages import ProviderCreate


def test_a_password_needs_12_characters_and_must_not_be_common():
    assert passwords.problem("short-pass1") == "Password must be 12 characters or more"
    assert "too common" in passwords.problem("password1234")
    assert "too common" in passwords.problem("Password123!")
    assert "too common" in passwords.problem("aaaaaaaaaaaa")
    assert "email" in passwords.problem("jane.doe-secret-phrase", "jane.doe@council.example")
    assert passwords.problem("copper kettle on the hill") is None


def test_passwords_are_stored_with_argon2id_and_verified():
    stored = passwords.hash_password("copper kettle on the hill")
    assert stored.startswith("$argon2id$")
    assert passwords.verify(stored, "copper kettle on the hill")
    assert not passwords.verify(stored, "copper kettle on the hilL")
    assert not passwords.verify(None, "anything at all")


def test_dotted_field_names_nest_and_numbered_rows_become_lists_without_blank_rows():
    form = MultiDict([("csrf_token", "t"), ("name", "Home"), ("location.lat", "51.2"),
                      ("contacts.0.name", "Ann"), ("contacts.0.email", "a@x.example"),
                      ("contacts.1.name", ""), ("needs_met[]", "N1"), ("needs_met[]", "N2"),
                      ("capacity", "")])
    assert nest(form) == {"name": "Home", "location": {"lat": "51.2"},
                          "contacts": [{"name": "Ann", "email": "a@x.example"}],
                          "needs_met": ["N1", "N2"]}


def test_only_local_paths_are_followed_after_sign_in():
    assert safe_next("/referrals/R-1") == "/referrals/R-1"
    assert safe_next("/audit?service=referral") == "/audit?service=referral"
    for hostile in ("https://evil.example/", "//evil.example/x", "", None, "javascript:x"):
        assert safe_next(hostile) == "/"


def test_errors_name_the_field_for_the_error_summary():
    try:
        ProviderCreate(name="", contact_email="not an email")
    except ValidationError as exc:
        errors = errors_from(exc, {"name": "Organisation name"})
    assert {e["field"] for e in errors} == {"name", "contact_email"}
    assert any(e["text"].startswith("Organisation name: ") for e in errors)
    domain = errors_from(InvalidInput.at(["core_costs", "premises"], "above the qualified"))
    assert domain == [{"field": "core_costs-premises",
                       "text": "core costs premises: Above the qualified"}]
