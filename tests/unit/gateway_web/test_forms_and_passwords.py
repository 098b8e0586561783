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


def test_the_too_big_page_names_the_limit_of_the_form_that_was_sent():
    """A file form takes 20 MB (RULES §4 evidence, §13 attachments), every other form the
    app's 2 MB: the 413 page says which, not 20 MB for every form."""
    from flask import Flask, request

    from gateway.web import _too_big
    from gateway.web.files import FORM_OVERHEAD
    from services.common.documents import MAX_BYTES

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    with app.test_request_context("/x", method="POST", data={"a": "b"}):
        assert _too_big() == "The form is too big: at most 2 MB"
    with app.test_request_context("/x", method="POST", content_type="multipart/form-data"):
        request.max_content_length = MAX_BYTES + FORM_OVERHEAD
        assert _too_big() == "The file is too big: at most 20 MB"


def test_a_reason_error_links_to_the_reason_input_of_its_own_form():
    """The child page has two reason inputs (a legal hold's, an erasure's, RULES §13): the
    service's ``reason`` error must link to the one the user typed into."""
    from gateway.web.views.child import _errors

    refused = InvalidInput.at(["reason"], "the reason is too long")
    assert [e["field"] for e in _errors(refused, "erase_reason")] == ["erase_reason"]
    assert [e["field"] for e in _errors(refused, "hold_reason")] == ["hold_reason"]


def test_a_refused_later_deadline_shows_the_services_reason(monkeypatch):
    """§5 extension: the service's refusal (a ValidationError or DomainError) is shown as
    it is, not as "enter a date and time" (pydantic's ValidationError is a ValueError)."""
    import pytest
    from flask import Flask

    from gateway.web.pages import refusal
    from gateway.web.views import referrals
    from services.common.errors import NotFound

    shown = {}
    monkeypatch.setattr(referrals, "show", lambda rid, errors: shown.setdefault("e", errors))
    monkeypatch.setattr(referrals, "rpc", lambda *a: (_ for _ in ()).throw(
        InvalidInput.at(["deadline"], "must be later than the current deadline")))
    app = Flask(__name__)
    with app.test_request_context("/", method="POST", data={"deadline": "2026-12-10T12:00"}):
        referrals.extend.__wrapped__("r1")
    assert shown["e"] == [{"field": "deadline",
                           "text": "New deadline: Must be later than the current deadline"}]
    # a model's refusal is a pydantic ValidationError, which is a ValueError too: it must
    # reach the error summary as the model's reason, not as "enter a date and time"
    from pydantic import BaseModel, ValidationError

    class Later(BaseModel):
        deadline: int

    try:
        Later.model_validate({"deadline": "soon"})
    except ValidationError as exc:
        invalid = exc
    monkeypatch.setattr(referrals, "rpc", lambda *a: (_ for _ in ()).throw(invalid))
    shown.clear()
    with app.test_request_context("/", method="POST", data={"deadline": "2026-12-10T12:00"}):
        referrals.extend.__wrapped__("r1")
    assert [e["field"] for e in shown["e"]] == ["deadline"]
    assert "enter a date and time" not in shown["e"][0]["text"]
    with pytest.raises(NotFound):  # 403 and 404: the error page (§10)
        refusal(NotFound("no such referral"))


def test_a_list_page_follows_the_cursor_to_the_last_item(monkeypatch):
    """The memberships, reviews and applications pages list every establishment, not the
    first 500 (§10 lists are paged with ``next_cursor``)."""
    from gateway.web import pages

    asked = []

    def rpc(service, method, query):
        asked.append(query)
        start = int(query.get("cursor") or 0)
        end = min(start + query["limit"], 1200)
        return {"items": list(range(start, end)),
                "next_cursor": str(end) if end < 1200 else None}

    monkeypatch.setattr(pages, "rpc", rpc)
    assert pages.every("qualification", "list_establishments", {"status": "admitted"}) == list(
        range(1200))
    assert [q.get("cursor") for q in asked] == [None, "500", "1000"]
    assert all(q["status"] == "admitted" for q in asked)
