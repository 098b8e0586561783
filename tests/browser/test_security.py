"""Issue 11's security Done-when, through the browser and HTTP on the stack (RULES §12,
§10): CSRF refused, idle timeout, lockout after 5 wrong passwords, a provider cannot open
another provider's pages nor a commissioner another authority's referral (404), cookie
flags (Secure behind HTTPS), and the Content-Security-Policy."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import text

from tests.support.browser_support import PASSWORD, make_user

pytestmark = pytest.mark.slow


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def db_execute(sql: str, **params):
    from services.common.runtime import make_engine

    engine = make_engine(pool_size=1)
    try:
        with engine.begin() as conn:
            return conn.execute(text(sql), params).all() if sql.lstrip().upper().startswith(
                "SELECT") else conn.execute(text(sql), params)
    finally:
        engine.dispose()


def test_a_form_post_without_its_csrf_token_is_refused(stack):
    email = make_user("auditor")
    http = requests.Session()
    assert http.get(f"{stack.url}/sign-in", timeout=10).status_code == 200
    refused = http.post(f"{stack.url}/sign-in", data={"email": email, "password": PASSWORD},
                        timeout=10, allow_redirects=False)
    assert refused.status_code == 400
    assert "did not come from this site" in refused.text
    forged = http.post(f"{stack.url}/sign-in", timeout=10, allow_redirects=False,
                       data={"email": email, "password": PASSWORD, "csrf_token": "forged"})
    assert forged.status_code == 400
    page = http.get(f"{stack.url}/sign-in", timeout=10)
    accepted = http.post(f"{stack.url}/sign-in", timeout=10, allow_redirects=False, data={
        "email": email, "password": PASSWORD, "csrf_token": csrf_of(page.text)})
    assert accepted.status_code == 302 and accepted.headers["Location"].endswith("/sign-in/code")


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(stack):
    email = make_user("auditor")
    http = requests.Session()

    def attempt(password: str) -> requests.Response:
        token = csrf_of(http.get(f"{stack.url}/sign-in", timeout=10).text)
        return http.post(f"{stack.url}/sign-in", timeout=10, allow_redirects=False,
                         data={"email": email, "password": password, "csrf_token": token})

    for _ in range(4):
        wrong = attempt("not-the-password-at-all")
        assert wrong.status_code == 422 and "Enter a correct email address" in wrong.text
    fifth = attempt("not-the-password-at-all")
    assert "Your account is locked" in fifth.text
    right = attempt(PASSWORD)
    assert right.status_code == 422 and "Your account is locked" in right.text
    [(until,)] = db_execute("SELECT locked_until FROM gateway.users WHERE email = :e", e=email)
    assert until > datetime.now(UTC) + timedelta(minutes=14)
    actions = [a for (a,) in db_execute(
        "SELECT action FROM gateway.audit_log a JOIN gateway.users u ON u.id = a.entity_id "
        "WHERE u.email = :e ORDER BY a.id", e=email)]
    assert actions.count("sign_in.failed") == 5 and "user.locked" in actions
    assert actions[-1] == "sign_in.refused_locked"


def test_a_session_idle_past_its_timeout_is_signed_out(stack, visitor):
    person = visitor("idle")
    person.sign_in(make_user("auditor"), label="idle sign in")
    person.goto("/audit", "audit trail")
    assert person.heading() == "Audit trail"
    db_execute("UPDATE gateway.web_sessions SET last_seen_at = now() - interval '31 minutes'")
    person.goto("/audit", "after 31 idle minutes")
    assert "/sign-in" in person.page.url
    assert "inactive for 30 minutes" in person.page.content()


def _provider(stack) -> tuple[str, str]:
    """A provider organisation registered over the API, with one establishment."""
    tag = uuid.uuid4().hex[:8]
    body = requests.post(f"{stack.url}/api/v1/providers", timeout=10, json={
        "name": f"Other Care {tag}", "contact_email": f"o-{tag}@other.example"}).json()
    est = requests.post(f"{stack.url}/api/v1/establishments", timeout=10, headers={
        "Authorization": f"Bearer {body['api_key']}"}, json={
        "name": f"Other House {tag}", "address": "1 Road", "postcode": "ME1 1AA",
        "location": {"lat": 51.3, "lon": 0.5}, "categories": ["RESIDENTIAL"],
        "contacts": [{"name": "M", "email": f"m-{tag}@other.example"}]}).json()
    return body["id"], est["id"]


def test_a_provider_cannot_open_another_providers_pages(stack, visitor):
    mine, my_establishment = _provider(stack)
    _, theirs = _provider(stack)
    person = visitor("provider-a")
    person.sign_in(make_user("provider", provider_id=mine), label="provider a sign in")
    person.goto(f"/establishments/{my_establishment}", "own establishment")
    assert person.heading().startswith("Other House")
    response = person.page.goto(f"{stack.url}/establishments/{theirs}")
    assert response.status == 404
    person.check("another provider's establishment")
    assert person.heading() == "Page not found"
    response = person.page.goto(f"{stack.url}/applications/new?establishment_id={theirs}"
                                "&category=RESIDENTIAL")
    assert response.status == 404


def test_a_commissioner_cannot_open_another_authoritys_referral(stack, visitor):
    kcc = stack.key("commissioner", "KCC")
    created = requests.post(f"{stack.url}/api/v1/referrals", timeout=10, headers={
        "Authorization": f"Bearer {kcc}"}, json={
        "category": "RESIDENTIAL", "child_reference": f"KCC-{uuid.uuid4().hex[:6]}",
        "children": [{"age": 12}], "home_location": {"lat": 51.2, "lon": 0.6},
        "radius_miles": 10, "deadline": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
        "desired_outcomes": ["settle"]})
    assert created.status_code == 201, created.text
    url = f"{stack.url}/referrals/{created.json()['referral_id']}"
    person = visitor("commissioner-escc")
    person.sign_in(make_user("commissioner", authority="ESCC"), label="escc sign in")
    response = person.page.goto(url)
    assert response.status == 404
    person.check("another authority's referral")
    owner = visitor("commissioner-kcc")
    owner.sign_in(make_user("commissioner", authority="KCC"), label="kcc sign in")
    assert owner.page.goto(url).status == 200


def test_pages_and_the_api_carry_a_strict_csp_and_security_headers(stack):
    for path in ("/sign-in", "/api/v1/dps"):
        response = requests.get(stack.url + path, timeout=10)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_the_session_cookie_is_httponly_lax_and_secure_behind_https(stack):
    plain = requests.get(f"{stack.url}/sign-in", timeout=10).headers["Set-Cookie"]
    assert "dps_session=" in plain and "HttpOnly" in plain and "SameSite=Lax" in plain
    assert "Secure" not in plain  # plain HTTP on the local machine
    from gateway.app import create_app

    app = create_app()  # the same gateway, asked over HTTPS
    secure = app.test_client().get("/sign-in", base_url="https://dps.example").headers[
        "Set-Cookie"]
    assert "Secure" in secure and "HttpOnly" in secure and "SameSite=Lax" in secure
