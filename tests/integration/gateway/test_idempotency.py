"""``Idempotency-Key`` when the first request fails (API.md: "a repeat with the same key
returns the first result and creates nothing"): a retry may do the work again only when
the first request surely did nothing. Real gateway and database; the RPC pool is a fake
that fails the way the real one does."""

from __future__ import annotations

import uuid

import pytest

from gateway.app import create_app
from gateway.rpc import ServiceUnavailable
from services.common.config import Settings

TIMED_OUT = ServiceUnavailable("qualification", "did not answer within 10s",
                               outcome_unknown=True)
NEVER_SENT = ServiceUnavailable("message broker", "is unreachable")


class FailingOnce:
    """An RPC pool whose first call fails with ``error``; later calls create a provider."""

    def __init__(self, error: Exception):
        self.error, self.calls = error, []

    def call(self, service, method, *args, **kwargs):
        self.calls.append(method)
        if len(self.calls) == 1:
            raise self.error
        return {"id": str(uuid.uuid4()), "name": args[0]["name"]}

    def close(self) -> None:
        pass


@pytest.fixture
def gateway_with():
    apps = []

    def make(pool):
        app = create_app(Settings(registration_rate_limit="1000 per minute"), rpc_pool=pool)
        apps.append(app)
        return app.test_client()

    yield make
    for app in apps:
        app.extensions["dps.engine"].dispose()


def register(client, key: str):
    return client.post("/api/v1/providers", headers={"Idempotency-Key": key},
                       json={"name": f"Idem {key[:8]}", "contact_email": "i@idem.example"})


def test_a_retry_after_a_timed_out_request_is_refused_not_done_twice(gateway_with):
    pool = FailingOnce(TIMED_OUT)
    client = gateway_with(pool)
    key = str(uuid.uuid4())
    first = register(client, key)
    assert first.status_code == 503
    assert first.content_type == "application/problem+json"

    replay = register(client, key)
    assert replay.status_code == 409
    assert replay.content_type == "application/problem+json"
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert "may still have been carried out" in replay.get_json()["detail"]
    assert pool.calls == ["create_provider"]  # the replay did not call the service again

    fresh = register(client, str(uuid.uuid4()))  # a new key is a new request
    assert fresh.status_code == 201
    assert pool.calls == ["create_provider", "create_provider"]


def test_a_request_that_never_left_the_gateway_frees_its_key(gateway_with):
    pool = FailingOnce(NEVER_SENT)
    client = gateway_with(pool)
    key = str(uuid.uuid4())
    assert register(client, key).status_code == 503
    retry = register(client, key)
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers
    assert pool.calls == ["create_provider", "create_provider"]
    replay = register(client, key)  # and from now on the key gives back that result
    assert (replay.status_code, replay.get_json()) == (201, retry.get_json())
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert len(pool.calls) == 2


def outcome_unknown_of(settings: Settings, service: str) -> bool:
    """``outcome_unknown`` of the 503 a real RPC pool with ``settings`` raises."""
    from gateway.rpc import RpcPool
    from services.common.config import nameko_config

    pool = RpcPool(settings, nameko_config(settings))
    try:
        with pytest.raises(ServiceUnavailable) as failed:
            pool.call(service, "anything")
        return failed.value.outcome_unknown
    finally:
        pool.close()


def test_the_real_pool_tells_a_timeout_from_a_request_never_sent():
    """What the idempotency rule relies on, through the real broker: a call nobody answers
    is ``outcome_unknown``; a broker that cannot be reached is not."""
    assert outcome_unknown_of(Settings(rpc_timeout_seconds=0.5), "nobody_listens") is True
    unreachable = Settings(amqp_uri="amqp://guest:guest@127.0.0.1:1/none")
    assert outcome_unknown_of(unreachable, "qualification") is False
