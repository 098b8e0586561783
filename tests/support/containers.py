"""Fixtures shared by the integration tests of a service running in a real nameko container.

Use them by assignment in the test module (an import of a fixture would be shadowed by the
test arguments of the same name)::

    engine = engine_fixture()
    service = service_fixture(QualificationService)
    rpc = rpc_fixture("contracts")
"""

from __future__ import annotations

import json

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.runtime import make_engine


def engine_fixture():
    """A fixture: an engine on the test database, disposed after the test."""

    @pytest.fixture
    def engine():
        eng = make_engine(pool_size=2)
        yield eng
        eng.dispose()

    return engine


def service_fixture(cls):
    """A fixture: ``cls`` started in a nameko container on the real broker (the
    ``container_factory`` fixture stops it after the test)."""

    @pytest.fixture
    def service(container_factory):
        container = container_factory(cls)
        container.start()
        return container

    return service


def rpc_fixture(service_name: str):
    """A fixture: ``rpc(principal)`` → a proxy to ``service_name`` calling as that
    principal (the gateway's context); the proxies are stopped after the test."""

    @pytest.fixture
    def rpc(config):
        proxies = []

        def make(principal: dict | None = None):
            holder = ClusterRpcProxy(config, context_data=principal_context(principal))
            proxies.append(holder)
            return getattr(holder.start(), service_name)

        yield make
        for holder in proxies:
            holder.stop()

    return rpc


def principal_context(principal: dict | None) -> dict:
    """The RPC context data the gateway sends: the caller's principal, if any."""
    return {"principal": json.dumps(principal)} if principal else {}
