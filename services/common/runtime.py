"""nameko plumbing shared by every service: dependency providers and entrypoints.

- ``Database``: one engine per container, one unit of work per call (DESIGN: nameko-
  sqlalchemy predates SQLAlchemy 2, so this is our own ~small provider).
- ``RequestContext``: binds ``service`` and ``request_id`` to every log line of a worker
  and exposes the calling principal.
- ``rpc``: nameko's RPC entrypoint that drops requests whose caller has already given up
  (the gateway sends a ``deadline``), so a request answered 503 is never executed later.
- ``event_handler``: nameko's handler with a bounded, delayed retry and a dead-letter queue
  (an exception in a plain nameko handler acks the message and the event is lost).
- ``consumes(source, event_type, Model)``: the one idempotent consume entrypoint: parse the
  payload with the published model, open an event unit of work that claims the event id,
  skip a duplicate, call the method with ``(uow, event)``, commit.
- ``Config(SettingsClass)``: a service's settings, read when its container starts.
- ``timer_from(SettingsClass, "field")``: a nameko timer whose interval is a setting.

The audit trail's entrypoints, built on these, are in ``audit_rpc``.
"""

from __future__ import annotations

import functools
import gc
import json
import time
import weakref
from collections.abc import Callable

import eventlet
import kombu
from kombu.pools import producers
from nameko.amqp.publish import Publisher
from nameko.events import EventHandler
from nameko.exceptions import UnknownService, registry
from nameko.extensions import DependencyProvider
from nameko.rpc import Responder, Rpc
from nameko.timer import Timer
from sqlalchemy import MetaData, create_engine
from sqlalchemy.orm import sessionmaker

from services.common.clock import Clock, OffsetClock
from services.common.config import Settings, get_settings
from services.common.errors import ALL_ERRORS, DomainError, Forbidden, Unavailable
from services.common.logging import bind_request, clear_contextvars, configure, get_logger
from services.common.tables import common_tables
from services.common.uow import UnitOfWork, actor_from_context
from services.common.validation import parse

log = get_logger(__name__)

for _cls in ALL_ERRORS:  # typed errors across RPC between services (nameko-examples pattern)
    registry[f"{_cls.__module__}.{_cls.__name__}"] = _cls


class _ReplyPublisher(Publisher):
    """RPC replies go to the caller's own reply queue: a publisher confirm (a broker round
    trip per reply) adds nothing there, since a lost reply is the caller's timeout either
    way (→ 503), and the work it reports is already committed. Requests and events keep
    their confirms (nameko's proxies; the outbox relay)."""

    use_confirms = False


Responder.publisher_cls = _ReplyPublisher

ATTEMPTS_HEADER = "x-dps-attempts"


def make_engine(url: str | None = None, pool_size: int | None = None):
    """No ping per checkout (a round trip on every unit of work): a connection the server
    closed fails its first statement, SQLAlchemy then discards the whole pool, and the
    call is answered with an error; connections are also recycled hourly."""
    s = get_settings()
    return create_engine(url or s.database_url, pool_size=pool_size or s.max_workers,
                         max_overflow=5, pool_recycle=3600, future=True)


class Db:
    """What a worker sees: factories for units of work bound to this call's context."""

    def __init__(self, provider: Database, worker_ctx):
        self._p = provider
        self._ctx = worker_ctx

    def uow(self) -> UnitOfWork:
        principal, request_id = actor_from_context(self._ctx.data)
        actor = principal or {"role": "system", "service": self._ctx.service_name}
        uow = UnitOfWork(self._p.sessionmaker(), self._p.tables, self._p.schema,
                         self._p.clock, actor=actor, request_id=request_id)
        if self._p.store is not None:
            uow.store = self._p.store(uow.session)
        return uow

    def run(self, handler: Callable, *args, also: tuple = ()):
        """``handler(*args, uow, principal, *also)`` in a new unit of work, for the calling
        principal (``Forbidden`` without one): what an RPC entrypoint does after parsing
        its message (DESIGN: inside a service)."""
        principal, _ = actor_from_context(self._ctx.data)
        if not principal:
            raise Forbidden("this call needs a principal")
        with self.uow() as uow:
            return handler(*args, uow, principal, *also)

    def event_uow(self, payload: dict, handler: str) -> UnitOfWork:
        """A unit of work for an event handler. Check ``uow.duplicate`` before acting."""
        uow = self.uow()
        uow.actor = {"role": "system", "service": self._ctx.service_name,
                     "event_id": payload.get("event_id")}
        uow.request_id = payload.get("request_id") or uow.request_id
        uow.claim_event(payload["event_id"], f"{self._ctx.service_name}.{handler}")
        return uow


class Database(DependencyProvider):
    """SQLAlchemy 2 session per worker, engine per container; tables include the
    outbox, processed-events and audit tables of the service's schema."""

    def __init__(self, metadata: MetaData, clock: Clock | None = None,
                 store: Callable | None = None):
        """``store``: the service's repository class, built on each unit of work's session
        as ``uow.store`` (handlers reach persistence only through it, so a fake unit of
        work with an in-memory store unit-tests them)."""
        self.metadata = metadata
        self.schema = metadata.schema
        self.tables = {t.name: t for t in metadata.sorted_tables}
        if "outbox" not in self.tables:  # every schema has the common tables
            self.tables.update(common_tables(metadata))
        self.clock = clock
        self.store = store

    def setup(self):
        if self.clock is None:  # read when the container starts, never at import
            self.clock = OffsetClock(get_settings().clock_offset_seconds)
        self.engine = make_engine(pool_size=self.container.max_workers)
        self.sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False)

    def stop(self):
        self.engine.dispose()

    def get_dependency(self, worker_ctx):
        return Db(self, worker_ctx)


@functools.cache
def freeze_startup_heap() -> None:
    """Take what starting the process allocated (modules, models, schemas, the app) out of
    the garbage collector's sight (``gc.freeze``), so a full collection scans only what
    has been allocated since. Issue 10: full collections of 70-200 ms, one about every
    thousand requests in each process, were the slowest 1 % of writes. Once per process
    (a test process starts many containers)."""
    gc.collect()
    gc.freeze()


class RequestContext(DependencyProvider):
    """Binds ``service`` and ``request_id`` to the worker's log lines (DESIGN: logging);
    every service has one, so it also freezes the started heap (``freeze_startup_heap``)."""

    def setup(self):
        configure(self.container.service_name, get_settings().log_level)
        self._started = weakref.WeakKeyDictionary()

    def start(self):
        freeze_startup_heap()

    def get_dependency(self, worker_ctx):
        return CallContext(worker_ctx.data)

    def worker_setup(self, worker_ctx):
        request_id = worker_ctx.data.get("request_id")
        if request_id is None and worker_ctx.args and isinstance(worker_ctx.args[0], dict):
            request_id = worker_ctx.args[0].get("request_id")  # events carry it in the body
        bind_request(request_id, entrypoint=worker_ctx.entrypoint.method_name)
        self._started[worker_ctx] = time.monotonic()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        took = round((time.monotonic() - self._started.pop(worker_ctx, time.monotonic()))
                     * 1000, 2)
        if exc_info is None:
            if not isinstance(worker_ctx.entrypoint, Timer):  # timers tick too often to log
                log.info("handled", ms=took)
        else:
            log.warning("failed", ms=took, error=repr(exc_info[1]))
        clear_contextvars()


class CallContext:
    """Who is calling (the gateway's principal, RULES §1) and the request id."""

    def __init__(self, data: dict):
        self.principal, self.request_id = actor_from_context(data)

    def require_principal(self) -> dict:
        if not self.principal:
            raise Forbidden("this call needs a principal")
        return self.principal


class DeadlineRpc(Rpc):
    """RPC entrypoint that acks and skips requests past the caller's ``deadline``."""

    def handle_message(self, body, message):
        deadline = message.headers.get("nameko.deadline")
        if deadline is not None and float(deadline) < time.time():
            log.warning("rpc request expired before it was handled",
                        method=self.method_name,
                        request_id=message.headers.get("nameko.request_id"))
            self.rpc_consumer.queue_consumer.ack_message(message)
            return
        super().handle_message(body, message)


def rpc(*args, **kwargs):
    """``@rpc`` / ``@rpc(...)``: domain errors are expected outcomes (4xx for the caller),
    so nameko logs them as warnings without a traceback."""
    kwargs.setdefault("expected_exceptions", DomainError)
    return DeadlineRpc.decorator(*args, **kwargs)


class RetryingEventHandler(EventHandler):
    """Event handler with bounded, delayed retry and a dead-letter queue.

    On failure the event is re-published to ``<queue>.retry`` with a per-message TTL
    (exponential backoff); RabbitMQ dead-letters it back to the handler's queue when the
    TTL expires. After ``handler_max_attempts`` it goes to ``<queue>.dlq`` for an operator.
    The original is acked only once its copy is safely on the broker; if that publish
    fails the original is requeued instead, so nothing is lost.
    """

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return result, exc_info
        try:
            self._park(message, exc_info[1])
        except Exception:  # broker trouble: let RabbitMQ redeliver the original
            log.exception("could not schedule a retry; requeueing the event")
            self.queue_consumer.requeue_message(message)
        else:
            self.queue_consumer.ack_message(message)
        return result, exc_info

    def _park(self, message, error: BaseException) -> None:
        s = get_settings()
        attempts = int(message.headers.get(ATTEMPTS_HEADER, 0)) + 1
        headers = {**message.headers, ATTEMPTS_HEADER: attempts, "x-dps-error": repr(error)}
        queue = self.queue.name
        body = json.dumps(message.payload)
        with kombu.Connection(self.container.config["AMQP_URI"]) as conn, \
                producers[conn].acquire(block=True, timeout=10) as producer:
            if attempts >= s.handler_max_attempts:
                target, expiration = declare_dlq(conn, queue), None
                log.error("event dead-lettered", queue=queue, attempts=attempts,
                          error=repr(error))
            else:
                target = declare_retry_queue(conn, queue)
                expiration = s.handler_retry_base_seconds * (2 ** (attempts - 1))
                log.warning("event handler failed; retrying later", queue=queue,
                            attempts=attempts, retry_in_s=expiration, error=repr(error))
            producer.publish(body, exchange="", routing_key=target, headers=headers,
                             content_type="application/json", content_encoding="utf-8",
                             delivery_mode=2, expiration=expiration, retry=True)


def declare_retry_queue(conn, queue: str) -> str:
    name = f"{queue}.retry"
    kombu.Queue(name, durable=True, queue_arguments={
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": queue,
    })(conn.default_channel).declare()
    return name


def declare_dlq(conn, queue: str) -> str:
    name = f"{queue}.dlq"
    kombu.Queue(name, durable=True)(conn.default_channel).declare()
    return name


event_handler = RetryingEventHandler.decorator


def call_remote(service: str, call: Callable, timeout: float):
    """Run an RPC to another service under a timeout (DESIGN: in-service RPC has none); a
    service that does not answer becomes ``Unavailable`` naming it (→ 503). Typed domain
    errors pass through."""
    try:
        with eventlet.Timeout(timeout):
            return call()
    except eventlet.Timeout:
        log.warning("rpc timed out", target=service, seconds=timeout)
        raise Unavailable(
            f"the {service} service did not answer within {timeout:g}s", [{"service": service}]
        ) from None
    except UnknownService:
        raise Unavailable(f"the {service} service is not running", [{"service": service}]) from None


def consumes(source: str, event_type: str, model, *, db: str = "db"):
    """The idempotent consume entrypoint (DESIGN rule 3), written once.

    Decorates ``method(self, uow, event)``. The payload is parsed with ``model`` (the
    source's published event), an event unit of work claims ``event_id`` under
    ``<service>.<method name>`` in the same transaction as the effect, a duplicate is
    skipped, and the unit of work commits after the method returns. Failures go through
    ``event_handler``'s delayed retry and dead-letter queue.
    """

    def decorate(method):
        @functools.wraps(method)
        def entrypoint(self, payload: dict) -> None:
            event = parse(model, payload)
            with getattr(self, db).event_uow(payload, method.__name__) as uow:
                if uow.duplicate:
                    return
                method(self, uow, event)
                uow.commit()

        return event_handler(source, event_type)(entrypoint)

    return decorate


class Config(DependencyProvider):
    """A service's settings (a subclass of ``config.Settings``), read from the environment
    when the container starts; workers get the same instance."""

    def __init__(self, settings_cls: type[Settings]):
        self.settings_cls = settings_cls
        self.settings: Settings | None = None

    def setup(self):
        self.settings = self.settings_cls()

    def get_dependency(self, worker_ctx):
        return self.settings


class SettingTimer(Timer):
    """A nameko timer whose interval is a field of a settings class, read at container
    start (nothing is read from the environment at import)."""

    def __init__(self, settings_cls: type[Settings], field: str, **kwargs):
        self.settings_cls = settings_cls
        self.field = field
        super().__init__(interval=1.0, **kwargs)

    def setup(self):
        self.interval = float(getattr(self.settings_cls(), self.field))
        super().setup()


def timer_from(settings_cls: type[Settings], field: str, **kwargs):
    """``@timer_from(ContractsConfig, "contracts_timer_seconds")``."""
    return SettingTimer.decorator(settings_cls, field, **kwargs)
