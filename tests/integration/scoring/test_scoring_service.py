"""The scoring services in real nameko containers on RabbitMQ (RULES §6, §10): the classes
``services.scoring.run`` would host for ``SCORING_CATEGORIES=SEN``, their ``Config`` read at
container start, the caller's principal travelling with the call, typed errors on the wire.

Each class runs under an ``_it`` name so an e2e stack in the same session (same vhost) never
competes for these queues.
"""

from __future__ import annotations

import json

import pytest
from nameko.exceptions import UnknownService
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.errors import Forbidden, InvalidInput
from services.scoring import run
from services.scoring.config import ScoringConfig
from tests.support.scoring_samples import OWNER, worked_example

PROVIDER = {"id": "k-p", "role": "provider", "authority": None, "provider_id": "prov-1"}


def under_test(cls: type) -> type:
    return type(cls.__name__, (cls,), {"name": f"{cls.name}_it"})


@pytest.fixture
def scoring(container_factory, monkeypatch):
    monkeypatch.setenv("SCORING_CATEGORIES", "SEN")
    categories = ScoringConfig().scoring_categories
    containers = [container_factory(under_test(cls)) for cls in run.hosted_services(categories)]
    for container in containers:
        container.start()
    return containers


def as_(config: dict, principal: dict | None) -> ClusterRpcProxy:
    context = {"principal": json.dumps(principal)} if principal else {}
    return ClusterRpcProxy(config, context_data=context, timeout=10)


def test_a_sen_process_hosts_scoring_and_scoring_sen(scoring, config):
    assert [c.service_name for c in scoring] == ["scoring_it", "scoring_sen_it"]
    for container in scoring:  # read when the container started
        settings = next(d for d in container.dependencies if d.attr_name == "config").settings
        assert settings.scoring_categories == ("SEN",)
    with as_(config, OWNER) as rpc:
        assert rpc.scoring_it.ping() == "ok"
        assert rpc.scoring_sen_it.ping() == "ok"
        reply = rpc.scoring_sen_it.score(worked_example())
        assert (reply["status"], reply["shortlist"]) == ("parent_choice", ["A", "B"])
        weights = rpc.scoring_it.resolve_weights(
            {"price_weight": 30, "has_needs": True, "has_desirable": True}
        )
        assert weights == {"P": 30, "C": 20, "L": 5, "O": 18, "N": 18, "F": 9}
        with pytest.raises(UnknownService):
            rpc.scoring_fostercare_it.ping()


def test_errors_arrive_typed(scoring, config):
    with as_(config, OWNER) as rpc, pytest.raises(InvalidInput) as exc_info:
        rpc.scoring_sen_it.score(worked_example() | {"category": "FOSTERCARE"})
    assert exc_info.value.errors[0]["loc"] == ["category"]
    with as_(config, PROVIDER) as rpc, pytest.raises(Forbidden, match="provider role"):
        rpc.scoring_sen_it.score(worked_example())
