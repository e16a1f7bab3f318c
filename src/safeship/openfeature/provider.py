"""``SafeshipProvider``: OpenFeature flags evaluated in process, kept current by the service.

**Evaluation** reads the snapshot held in memory and runs :func:`safeship.flags.evaluate`,
the service's own evaluator: no request per evaluation, a few microseconds each. Reasons are
``STATIC``, ``TARGETING_MATCH``, ``SPLIT``, ``DISABLED``, ``DEFAULT``; errors return the
caller's default with ``FLAG_NOT_FOUND``, ``TYPE_MISMATCH``, ``TARGETING_KEY_MISSING``,
``PARSE_ERROR`` or ``GENERAL`` (see :mod:`.resolution`). Every result carries
``flag_metadata``: ``environment``, ``snapshot_version``, ``flag_version`` and, when they
apply, ``rule_id`` and ``prerequisite``.

**Freshness.** A background thread (:mod:`.sync`) follows the service's event stream and
falls back to polling every ``refresh_interval_s``. What the provider serves depends on where
it stands (:class:`~safeship.openfeature.state.ProviderState`):

=================  ==========================================================================
``NOT_READY``      no snapshot yet: the caller's default, ``ERROR``/``PROVIDER_NOT_READY``
``READY``          the flags as the service has them
``STALE``          the service is unreachable: the last known flags, reason ``STALE`` (the
                   evaluated reason is kept in ``flag_metadata["reason"]``)
``ERROR``          the service refuses the token: as ``STALE`` if a snapshot is held, else
                   the caller's default
=================  ==========================================================================

Each transition is logged once (a warning when going stale, with the time it started) and
emitted as an OpenFeature event: ``PROVIDER_STALE``, ``PROVIDER_ERROR``, ``PROVIDER_READY``
when back in touch, ``PROVIDER_CONFIGURATION_CHANGED`` with the changed flag keys.
:attr:`SafeshipProvider.sync_state` tells the state, since when it is stale, and when the
service last answered.

``initialize`` (called by ``api.set_provider``) waits up to ``init_timeout_s`` for the first
snapshot; if none comes it raises ``ProviderNotReadyError`` (the SDK then reports ERROR) and
keeps trying in the background, emitting ``PROVIDER_READY`` once a snapshot arrives.

**Counters.** Every evaluation is counted per flag and variant, and the app reports outcomes
with :meth:`SafeshipProvider.record` (or OpenFeature ``track`` events naming ``flag`` and
``variant``); see :mod:`.counters` and :meth:`SafeshipProvider.register_metrics`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from openfeature.evaluation_context import EvaluationContext as OpenFeatureContext
from openfeature.event import ProviderEventDetails
from openfeature.exception import ErrorCode, ProviderNotReadyError
from openfeature.flag_evaluation import FlagResolutionDetails, FlagValueType
from openfeature.provider import AbstractProvider, Metadata
from openfeature.track import TrackingEventDetails
from prometheus_client import CollectorRegistry

from safeship._internal.http import HttpClientFactory, default_client_factory
from safeship.errors import EndpointUnavailable
from safeship.flags import DEFAULT_ENVIRONMENT, EvaluationContext, evaluate
from safeship.openfeature.counters import VariantCounters
from safeship.openfeature.metrics_export import FlagMetricsCollector, register_metrics
from safeship.openfeature.resolution import FLAG_TYPE_OF, ValueKind, failure, resolution
from safeship.openfeature.service_client import FlagServiceClient, ServiceRefused
from safeship.openfeature.snapshot import Snapshot
from safeship.openfeature.state import ProviderState, SyncState
from safeship.openfeature.sync import FlagSync

log = logging.getLogger(__name__)

PROVIDER_NAME = "safeship"
_EMPTY_CONTEXT = EvaluationContext()


class WallClock(Protocol):
    """Where the provider reads the time (``safeship.engine.clock`` clocks fit)."""

    def now(self) -> datetime:
        """The current UTC time."""
        ...


class _SystemTime:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SafeshipProvider(AbstractProvider):
    """The OpenFeature provider (see the module docstring)."""

    def __init__(self, url: str, *, token: str | None = None,
                 environment: str = DEFAULT_ENVIRONMENT, refresh_interval_s: float = 30.0,
                 init_timeout_s: float = 5.0, stream: bool = True,
                 stream_idle_timeout_s: float = 45.0, request_timeout_s: float = 5.0,
                 client_factory: HttpClientFactory = default_client_factory,
                 clock: WallClock | None = None) -> None:
        """A provider for the flags of ``environment`` served at ``url``.

        ``token`` is a read token of the service. ``stream_idle_timeout_s`` must exceed the
        service's keep-alive interval (15 s by default). Nothing connects before
        :meth:`initialize`.
        """
        super().__init__()
        self._environment = environment
        self._clock: WallClock = clock or _SystemTime()
        self._client = FlagServiceClient(url, token, environment,
                                         client_factory=client_factory,
                                         timeout_s=request_timeout_s,
                                         stream_idle_timeout_s=stream_idle_timeout_s)
        self._sync = FlagSync(self._client, _Listener(self), stream=stream,
                              refresh_interval_s=refresh_interval_s)
        self._init_timeout_s = init_timeout_s
        self._lock = threading.Lock()
        self._first_snapshot = threading.Event()
        self._snapshot: Snapshot | None = None
        self._state = ProviderState.NOT_READY
        self._stale_since: datetime | None = None
        self._last_sync: datetime | None = None
        self._last_error: str | None = None
        self._streaming = False
        self._init_done = False
        self._counters = VariantCounters(lambda: self._clock.now().timestamp())

    # OpenFeature lifecycle ----------------------------------------------------------------

    def get_metadata(self) -> Metadata:
        """The provider's name."""
        return Metadata(name=PROVIDER_NAME)

    def initialize(self, evaluation_context: OpenFeatureContext | None = None) -> None:
        """Start syncing and wait up to ``init_timeout_s`` for the first snapshot.

        Raises:
            ProviderNotReadyError: no snapshot in time (syncing goes on in the background).
        """
        self._sync.start()
        self._first_snapshot.wait(self._init_timeout_s)
        with self._lock:
            self._init_done = True
            if self._snapshot is not None:
                return
            reason = self._last_error or "no answer yet"
        raise ProviderNotReadyError(
            f"no flags from {self._client.url} within {self._init_timeout_s:g} s ({reason}); "
            "still trying in the background")

    def shutdown(self) -> None:
        """Stop syncing and close connections; the flags held stay readable."""
        self._sync.stop()
        self._client.close()

    # state --------------------------------------------------------------------------------

    @property
    def environment(self) -> str:
        """The environment whose flags this provider evaluates."""
        return self._environment

    @property
    def sync_state(self) -> SyncState:
        """Where the provider stands with the service (see :class:`SyncState`)."""
        with self._lock:
            return SyncState(self._state,
                             None if self._snapshot is None else self._snapshot.version,
                             self._last_sync, self._stale_since, self._last_error,
                             self._streaming)

    @property
    def is_stale(self) -> bool:
        """True when the values served may be out of date (the service is unreachable)."""
        return self._stale_since is not None

    @property
    def stale_since(self) -> datetime | None:
        """When the service stopped answering, or None while in touch."""
        return self._stale_since

    # counters -----------------------------------------------------------------------------

    @property
    def counters(self) -> VariantCounters:
        """Evaluations and outcomes per flag and variant."""
        return self._counters

    def record(self, flag: str, variant: str, *, ok: bool,
               latency_s: float | None = None) -> None:
        """Record the outcome for a user who got ``variant`` of ``flag``."""
        self._counters.record(flag, variant, ok=ok, latency_s=latency_s)

    def track(self, tracking_event_name: str,
              evaluation_context: OpenFeatureContext | None = None,
              tracking_event_details: TrackingEventDetails | None = None) -> None:
        """OpenFeature tracking: an event whose attributes name ``flag`` and ``variant`` is
        recorded as an outcome (``ok``: attribute ``ok``, default true; latency: the event's
        ``value`` in seconds). Other events are ignored."""
        if tracking_event_details is None:
            return
        attributes = tracking_event_details.attributes
        flag, variant = attributes.get("flag"), attributes.get("variant")
        if isinstance(flag, str) and isinstance(variant, str):
            ok = attributes.get("ok", True)
            self.record(flag, variant, ok=ok is not False,
                        latency_s=tracking_event_details.value)

    def register_metrics(self, registry: CollectorRegistry) -> FlagMetricsCollector:
        """Expose the counters as Prometheus metrics in ``registry``."""
        return register_metrics(self._counters, registry)

    # evaluation ---------------------------------------------------------------------------

    def resolve_boolean_details(self, flag_key: str, default_value: bool,
                                evaluation_context: OpenFeatureContext | None = None,
                                ) -> FlagResolutionDetails[bool]:
        """Evaluate a boolean flag."""
        return self._resolve(flag_key, default_value, evaluation_context, ValueKind.BOOLEAN)

    def resolve_string_details(self, flag_key: str, default_value: str,
                               evaluation_context: OpenFeatureContext | None = None,
                               ) -> FlagResolutionDetails[str]:
        """Evaluate a string flag."""
        return self._resolve(flag_key, default_value, evaluation_context, ValueKind.STRING)

    def resolve_integer_details(self, flag_key: str, default_value: int,
                                evaluation_context: OpenFeatureContext | None = None,
                                ) -> FlagResolutionDetails[int]:
        """Evaluate a number flag whose value is whole."""
        return self._resolve(flag_key, default_value, evaluation_context, ValueKind.INTEGER)

    def resolve_float_details(self, flag_key: str, default_value: float,
                              evaluation_context: OpenFeatureContext | None = None,
                              ) -> FlagResolutionDetails[float]:
        """Evaluate a number flag."""
        return self._resolve(flag_key, default_value, evaluation_context, ValueKind.FLOAT)

    def resolve_object_details(
        self, flag_key: str,
        default_value: Sequence[FlagValueType] | Mapping[str, FlagValueType],
        evaluation_context: OpenFeatureContext | None = None,
    ) -> FlagResolutionDetails[Sequence[FlagValueType] | Mapping[str, FlagValueType]]:
        """Evaluate a json flag whose value is an object or an array."""
        return self._resolve(flag_key, default_value, evaluation_context, ValueKind.OBJECT)

    def _resolve(self, key: str, default: Any, context: OpenFeatureContext | None,
                 kind: str) -> FlagResolutionDetails[Any]:
        snapshot = self._snapshot
        if snapshot is None:
            self._counters.count_evaluation(key, None)
            return failure(default, ErrorCode.PROVIDER_NOT_READY,
                           "no flags from the flag service yet")
        flag = snapshot.flags.get(key)
        if flag is None:
            self._counters.count_evaluation(key, None)
            problem = snapshot.broken.get(key)
            if problem is not None:
                return failure(default, ErrorCode.PARSE_ERROR, problem)
            return failure(default, ErrorCode.FLAG_NOT_FOUND,
                           f"no flag '{key}' in {self._environment}")
        ours = (_EMPTY_CONTEXT if context is None
                else EvaluationContext(context.targeting_key, context.attributes))
        result = evaluate(flag, ours, self._environment, flags=snapshot.flags,
                          expected_type=FLAG_TYPE_OF[kind])
        metadata: dict[str, bool | int | float | str] = {
            "environment": self._environment, "snapshot_version": snapshot.version,
            "flag_version": snapshot.flag_versions.get(key, 0)}
        details, variant = resolution(result, kind, default, metadata,
                                      stale=self._stale_since is not None)
        self._counters.count_evaluation(key, variant)
        return details

    # what the sync thread reports ---------------------------------------------------------

    def _current(self) -> Snapshot | None:
        return self._snapshot

    def _snapshot_loaded(self, snapshot: Snapshot) -> None:
        with self._lock:
            previous = self._snapshot
            self._snapshot = snapshot
            recovered = self._in_touch(streaming=self._streaming)  # the sync reports streaming
            announce_ready = previous is None and self._init_done
        self._first_snapshot.set()
        if previous is None:
            log.info("flags of %s loaded from %s (data version %d, %d flags)",
                     self._environment, self._client.url, snapshot.version, len(snapshot.flags))
            if announce_ready or recovered:
                self.emit_provider_ready(ProviderEventDetails(message="flags loaded"))
            return
        if recovered:
            self.emit_provider_ready(ProviderEventDetails(message="back in touch"))
        changed = previous.changed_keys(snapshot)
        if changed:
            self.emit_provider_configuration_changed(ProviderEventDetails(
                flags_changed=changed, metadata={"snapshot_version": snapshot.version}))

    def _contact(self, *, streaming: bool) -> None:
        with self._lock:
            recovered = self._in_touch(streaming=streaming)
        if recovered:
            self.emit_provider_ready(ProviderEventDetails(message="back in touch"))

    def _in_touch(self, *, streaming: bool) -> bool:
        """Record contact (lock held); True when this ends a STALE or ERROR spell."""
        self._last_sync = self._clock.now()
        self._streaming = streaming
        self._last_error = None
        if self._snapshot is None:
            return False
        was = self._state
        self._state = ProviderState.READY
        self._stale_since = None
        if was in (ProviderState.STALE, ProviderState.ERROR):
            log.warning("the flag service at %s answers again; flags are current",
                        self._client.url)
            return True
        return False

    def _unreachable(self, error: EndpointUnavailable) -> None:
        with self._lock:
            first = self._last_error is None
            self._last_error = error.message
            self._streaming = False
            went_stale = self._snapshot is not None and self._state is ProviderState.READY
            if went_stale:
                self._state = ProviderState.STALE
                self._stale_since = self._clock.now()
            since, version = self._stale_since, (
                None if self._snapshot is None else self._snapshot.version)
        if went_stale:
            log.warning("the flag service is unreachable since %s: serving the last known "
                        "flags (data version %s) with reason STALE: %s",
                        since.isoformat() if since else "?", version, error.message)
            self.emit_provider_stale(ProviderEventDetails(message=error.message))
        elif first and version is None:
            log.warning("cannot load flags yet; evaluations return the defaults: %s",
                        error.message)

    def _refused(self, error: ServiceRefused) -> None:
        with self._lock:
            was = self._state
            self._state = ProviderState.ERROR
            self._last_error = error.message
            self._streaming = False
            if self._snapshot is not None and self._stale_since is None:
                self._stale_since = self._clock.now()
        if was is not ProviderState.ERROR:
            log.error("%s; %s", error.message,
                      "serving the last known flags" if self._snapshot is not None
                      else "evaluations return the defaults")
            self.emit_provider_error(ProviderEventDetails(message=error.message,
                                                          error_code=ErrorCode.GENERAL))


class _Listener:
    """Relays the sync thread's reports to the provider's private handlers."""

    def __init__(self, provider: SafeshipProvider) -> None:
        self._provider = provider

    def current(self) -> Snapshot | None:
        return self._provider._current()

    def snapshot_loaded(self, snapshot: Snapshot) -> None:
        self._provider._snapshot_loaded(snapshot)

    def contact(self, *, streaming: bool) -> None:
        self._provider._contact(streaming=streaming)

    def unreachable(self, error: EndpointUnavailable) -> None:
        self._provider._unreachable(error)

    def refused(self, error: ServiceRefused) -> None:
        self._provider._refused(error)
