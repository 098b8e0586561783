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
