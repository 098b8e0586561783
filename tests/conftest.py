"""Test session set-up.

nameko's pytest plugin no longer monkey-patches, and in-process nameko containers hang
without it (DESIGN), so this happens first. Tests use their own database and RabbitMQ
virtual host (``dps_test``) so that a `make run` system on the same machine is untouched.
"""

import eventlet

eventlet.monkey_patch()

import os  # noqa: E402

os.environ.setdefault("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/dps_test")
os.environ.setdefault("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/dps_test")
os.environ.setdefault("DPS_LOG_LEVEL", "INFO")
os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_selector")

# one whole-system stack per session, shared by e2e and reliability tests: imported here
# once (importing it into two conftests made two stacks on the same vhost, and stopping a
# service in one left the other's copy answering)
from tests.support.fixtures import api, stack  # noqa: E402, F401

_LAYERS = {"unit": 0, "integration": 1, "e2e": 2, "reliability": 3}


def pytest_collection_modifyitems(items):
    """Run the layers in this order (stable within each). The e2e stack is session-scoped
    and lives until the session ends: run after the integration tests, its services would
    compete with their containers for the same queues and rows."""

    def layer(item) -> int:
        parts = item.nodeid.split("/")
        return _LAYERS.get(parts[1], len(_LAYERS)) if parts[0] == "tests" and len(parts) > 2 \
            else len(_LAYERS)

    items.sort(key=layer)
