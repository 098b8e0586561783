import pytest

from tests.support.infra import bootstrap_once, nameko_config


@pytest.fixture(scope="session", autouse=True)
def _bootstrapped():
    bootstrap_once()


@pytest.fixture
def config():
    return nameko_config()
