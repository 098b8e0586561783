from tests.support.fixtures import api, stack  # noqa: F401
