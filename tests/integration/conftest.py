import pytest

from tests.support.infra import bootstrap_once, nameko_config


@pytest.fixture(scope="session", autouse=True)
def _bootstrapped():
    bootstrap_once()


@pytest.fixture
def config():
    return nameko_config()


@pytest.fixture
def container_factory(config):
    """Start nameko containers on the real broker; stop them after the test."""
    from nameko.containers import ServiceContainer

    containers = []

    def make(cls, overrides: dict | None = None):
        container = ServiceContainer(cls, {**config, **(overrides or {})})
        containers.append(container)
        return container

    yield make
    for c in containers:
        c.stop()
