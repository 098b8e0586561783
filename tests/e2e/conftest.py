"""The ``stack`` and ``api`` fixtures come from tests/conftest.py (one stack per session)."""
