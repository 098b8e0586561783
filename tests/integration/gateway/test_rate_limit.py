"""Open provider registration is rate limited per client (API.md: 429 problem+json)."""

from gateway.app import create_app
from services.common.config import Settings


def test_registration_beyond_the_limit_gets_429_problem():
    app = create_app(Settings(registration_rate_limit="2 per minute"))
    client = app.test_client()
    statuses = [client.post("/api/v1/providers", json={}).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]
    limited = client.post("/api/v1/providers", json={})
    assert limited.status_code == 429
    assert limited.content_type == "application/problem+json"
    assert limited.get_json()["status"] == 429
