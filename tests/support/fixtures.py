"""Session fixtures for tests that drive the whole system over HTTP (e2e, reliability)."""

import pytest
import requests

from tests.support.stack import start_stack


@pytest.fixture(scope="session")
def stack():
    s = start_stack()
    yield s
    s.stop_all()


class Api:
    """A small HTTP client for the gateway with one principal's key."""

    def __init__(self, base: str, key: str | None = None):
        self.base = base
        self.key = key
        self.http = requests.Session()

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if self.key:
            headers.setdefault("Authorization", f"Bearer {self.key}")
        return self.http.request(method, self.base + path, headers=headers, timeout=30,
                                 **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


@pytest.fixture(scope="session")
def api(stack):
    """``api(role, authority=None, provider_id=None)`` → an Api with a fresh key."""

    def make(role: str | None = None, authority: str | None = None,
             provider_id: str | None = None) -> Api:
        return Api(stack.url, stack.key(role, authority, provider_id) if role else None)

    return make
