"""A pool of started nameko RPC proxies (DESIGN: ``ClusterRpcProxy`` is not thread-safe;
one per request costs ~10 ms). A request checks one out, every call has a timeout, and a
service that does not answer maps to ``ServiceUnavailable`` → 503 naming it.

Typed domain errors raised in a service arrive here as the same classes (registered in
nameko's exception registry), so the gateway maps them to problem+json statuses.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from contextlib import contextmanager, suppress

from kombu import Connection, Producer
from nameko.constants import PERSISTENT
from nameko.exceptions import RemoteError, RpcTimeout
from nameko.messaging import HeaderEncoder
from nameko.rpc import RpcReply, get_rpc_exchange
from nameko.standalone.rpc import ClusterRpcProxy
from prometheus_client import Histogram

from services.common import (
    errors,
    runtime,  # noqa: F401  (registers typed remote errors)
)
from services.common.config import Settings
from services.common.logging import get_logger

log = get_logger(__name__)

RPC_LATENCY = Histogram("dps_rpc_seconds", "RPC latency per service method",
                        ["service", "method", "outcome"])


class ServiceUnavailable(Exception):
    """503. ``outcome_unknown``: the request was handed to the broker but no reply came in
    time, so the service may yet carry it out (it drops a request still queued when the
    caller's deadline passes, not one it had already begun); otherwise the request never
    left the gateway and nothing was done."""

    def __init__(self, service: str, reason: str = "did not answer", *,
                 outcome_unknown: bool = False):
        super().__init__(f"the {service} service {reason}")
        self.service = service
        self.outcome_unknown = outcome_unknown


class NotSent(ConnectionError):
    """The request could not be published: the service never got it."""


class _Slot:
    """One started proxy, the context data its calls carry, and its own producer.

    A slot is used by one request at a time (``RpcPool`` checks it out), so it publishes
    on its own kombu connection and producer, made once, instead of through nameko's
    ``Publisher``, which builds a kombu ``Connection``, looks up a shared producer pool
    and warns about ``mandatory`` on every call (issue 10: together a third of the
    gateway's CPU on a read).

    Requests are published without a publisher confirm (issue 10: the confirm was a
    broker round trip on every request). Nothing accepted can be lost by that: a request
    the broker never took gets no reply, so the caller gets 503 after its timeout and
    nothing was done; and the RPC queues are declared by ``dps bootstrap``, so the
    confirm's other use (telling an unknown service at once: nameko's
    ``UnknownService``) never arises in a deployed system; without the queues a call is a
    503 after its timeout. A failed publish (broker gone) is ``NotSent``: the
    pool answers 503 and replaces the slot."""

    def __init__(self, config: dict, timeout: float):
        self.holder = ClusterRpcProxy(config, context_data={}, timeout=timeout)
        self.holder.start()
        self.exchange = get_rpc_exchange(config)
        self.serializer = config.get("serializer", "json")
        self.connection = Connection(config["AMQP_URI"])
        self.producer = Producer(self.connection)
        self._headers = HeaderEncoder()

    def call(self, service: str, method: str, args, kwargs):
        """nameko's ``MethodProxy`` call: publish to ``service.method`` with the reply
        queue and a correlation id, then wait for the reply (or its timeout)."""
        listener = self.holder._reply_listener
        correlation_id = str(uuid.uuid4())
        reply = RpcReply(listener.get_reply_event(correlation_id))
        try:
            self.producer.publish(
                {"args": args, "kwargs": kwargs}, exchange=self.exchange,
                routing_key=f"{service}.{method}", reply_to=listener.routing_key,
                correlation_id=correlation_id, delivery_mode=PERSISTENT,
                serializer=self.serializer,
                headers=self._headers.get_message_headers(self.holder._worker_ctx))
        except Exception as exc:
            listener._reply_events.pop(correlation_id, None)
            raise NotSent(f"could not publish to {service}: {exc}") from exc
        return reply.result()

    def stop(self) -> None:
        with suppress(Exception):  # a broken slot is thrown away either way
            self.connection.close()
        with suppress(Exception):
            self.holder.stop()


class RpcPool:
    def __init__(self, settings: Settings, config: dict):
        self.settings = settings
        self.config = config
        self.size = settings.rpc_pool_size
        self._idle: queue.LifoQueue[_Slot] = queue.LifoQueue()
        self._created = 0
        self._lock = threading.Lock()

    def _new_slot(self, timeout: float) -> _Slot:
        return _Slot(self.config, timeout)

    @contextmanager
    def _checkout(self):
        try:
            slot = self._idle.get_nowait()
        except queue.Empty:
            with self._lock:
                may_create = self._created < self.size
                if may_create:
                    self._created += 1
            if may_create:
                try:
                    slot = self._new_slot(self.settings.rpc_timeout_seconds)
                except Exception as exc:
                    with self._lock:
                        self._created -= 1
                    raise ServiceUnavailable("message broker", "is unreachable") from exc
            else:
                try:
                    slot = self._idle.get(timeout=self.settings.rpc_timeout_seconds)
                except queue.Empty as exc:
                    raise ServiceUnavailable("gateway", "has no free RPC connection") from exc
        healthy = True
        try:
            yield slot
        except (ServiceUnavailable, OSError, ConnectionError):
            healthy = False
            raise
        finally:
            if healthy:
                self._idle.put(slot)
            else:  # a timed-out proxy may still receive a stale reply: discard it
                slot.stop()
                with self._lock:
                    self._created -= 1

    def call(self, service: str, method: str, *args, context: dict | None = None,
             timeout: float | None = None, **kwargs):
        timeout = timeout or self.settings.rpc_timeout_seconds
        started = time.monotonic()
        outcome = "ok"
        try:
            with self._checkout() as slot:
                slot.holder._worker_ctx.data.clear()
                slot.holder._worker_ctx.data.update(
                    {**(context or {}), "deadline": str(time.time() + timeout)})
                # the proxy's timeout is a socket timeout on its reply consumer
                slot.holder._reply_listener.queue_consumer.timeout = timeout
                try:
                    return slot.call(service, method, args, kwargs)
                except RpcTimeout as exc:
                    raise ServiceUnavailable(
                        service, f"did not answer within {timeout:g}s",
                        outcome_unknown=True) from exc
                except NotSent as exc:
                    raise ServiceUnavailable(service, "is unreachable") from exc
                except OSError as exc:  # sent, then the broker went while we waited
                    raise ServiceUnavailable(service, "is unreachable",
                                             outcome_unknown=True) from exc
        except errors.DomainError:
            outcome = "domain_error"
            raise
        except ServiceUnavailable:
            outcome = "unavailable"
            raise
        except RemoteError:
            outcome = "remote_error"
            raise
        finally:
            RPC_LATENCY.labels(service, method, outcome).observe(time.monotonic() - started)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().stop()
            except queue.Empty:
                return
