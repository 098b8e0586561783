"""Fixtures of the referral service's integration tests: the services under test in real
nameko containers on RabbitMQ and PostgreSQL (with the real scoring code and a small fake
qualification service), an engine, callers and a fresh region per test. What they are built
from is in ``tests/support/referral_world.py``.
"""

from __future__ import annotations

import pytest

from services.common.runtime import make_engine
from tests.support.referral_world import (
    Caller,
    CategoryScoringUnderTest,
    FakeQualification,
    ReferralUnderTest,
    Region,
    ScoringUnderTest,
    Services,
)


@pytest.fixture(scope="module")
def services():
    from tests.support.infra import nameko_config

    s = Services(nameko_config())
    for cls in (FakeQualification, ScoringUnderTest, CategoryScoringUnderTest, ReferralUnderTest):
        s.start(cls)
    yield s
    for name in list(s.containers):
        s.stop(name)


@pytest.fixture(scope="module")
def engine():
    eng = make_engine(pool_size=2)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def as_():
    from tests.support.infra import nameko_config

    config = nameko_config()
    return lambda principal: Caller(config, principal)


@pytest.fixture
def region():
    return Region()
