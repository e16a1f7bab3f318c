"""The rollout history of a service, read from the state store without writing to it.

The store is found as every command finds it: the URL given (``$SAFESHIP_DATABASE_URL``), else
``<project>/.safeship/state.db``. A SQLite file that does not exist, or a database without the
rollout tables, is *no history* (not an error, and nothing is created). A database that exists
but cannot be read raises :class:`~safeship.errors.StoreUnavailable`.

Unlike :meth:`RolloutStore.open`, this never migrates: an assessment reads, it does not upgrade
somebody's database. The newest :data:`HISTORY_WINDOW` releases of the service are counted.

How a release ended:

* *zero-touch*: finished with no command from a person (the store records every ``pause``,
  ``resume``, ``promote`` and ``abort`` sent to a release as a ``command`` transition);
* *automatic rollback*: ended ``rolled_back`` (a person's abort ends ``aborted`` instead);
  *by the analysis* when the rollback began on a judge's verdict rather than a failed step;
* *SLO refusal*: the controller's pre-deploy SLO check refused the rollout before step 1 (an
  ``aborted`` release whose first transition is ``refused``): an automatic, SLO-based decision;
  releases whose SLO check let them start carry an ``slo_checked`` transition;
* *manual undo*: a ``safeship rollout undo`` release.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect

from safeship.assess.evidence import HistoryFacts
from safeship.engine.rollout_state import Decision, Event, ReleaseKind
from safeship.store.database import create_engine
from safeship.store.failures import STORE_FAILURES, leaks_secret, store_unavailable
from safeship.store.rollouts import ReleaseRecord, RolloutStore
from safeship.store.urls import default_database_url, masked_url, sqlite_path

HISTORY_WINDOW = 50
"""How many of the newest releases are counted."""

# RolloutStore.set_command records every command a person sends under this event name.
_COMMAND_EVENT = "command"


def collect_history(root: Path, service: str, url: str | None) -> HistoryFacts:
    """The history of ``service`` in the store at ``url`` (or the project's default store)."""
    target = url or default_database_url(root)
    shown = masked_url(target)
    path = sqlite_path(target)
    if path is not None and not path.is_file():
        return HistoryFacts(False, shown, f"no state store at {path}", service)
    try:
        engine = create_engine(target)
        try:
            has_releases = inspect(engine).has_table("releases")
        except BaseException:
            engine.dispose()
            raise
    except STORE_FAILURES as exc:
        error = store_unavailable(target, "read the rollout history", exc)
        if leaks_secret(target, exc):
            raise error from None
        raise error from exc
    if not has_releases:
        engine.dispose()
        return HistoryFacts(False, shown, "the state store holds no rollouts yet", service)
    with RolloutStore(engine, target) as store:
        releases = store.list_releases(service, limit=HISTORY_WINDOW)
        return _count(store, shown, service, releases)


def _count(store: RolloutStore, shown: str, service: str,
           releases: list[ReleaseRecord]) -> HistoryFacts:
    counts = {"promotions": 0, "zero_touch_promotions": 0, "automatic_rollbacks": 0,
              "analysis_rollbacks": 0, "aborted": 0, "slo_refusals": 0, "slo_checked": 0,
              "manual_undos": 0, "human_touched": 0, "zero_touch": 0}
    seconds: list[float] = []
    finished = [release for release in releases if not release.active]
    for release in finished:
        touched = bool(store.transitions(release.release_id, event=_COMMAND_EVENT))
        undo = release.kind == ReleaseKind.UNDO
        counts["human_touched" if touched or undo else "zero_touch"] += 1
        if store.last_transition(release.release_id, Event.SLO_CHECKED) is not None:
            counts["slo_checked"] += 1
        if undo:
            counts["manual_undos"] += 1
        elif release.decision == Decision.PROMOTED:
            counts["promotions"] += 1
            counts["zero_touch_promotions"] += 0 if touched else 1
        elif release.decision == Decision.ROLLED_BACK:
            counts["automatic_rollbacks"] += 1
            started = store.last_transition(release.release_id, Event.ROLLBACK_STARTED)
            if started is not None and "verdict" in started.details:
                counts["analysis_rollbacks"] += 1
        elif release.decision == Decision.ABORTED:
            refused = store.last_transition(release.release_id, Event.REFUSED) is not None
            counts["slo_refusals" if refused else "aborted"] += 1
        if release.rollback_seconds is not None:
            seconds.append(release.rollback_seconds)
    note = (f"{len(releases)} release(s) of '{service}' in the store" if releases
            else f"no release of '{service}' in the store")
    return HistoryFacts(
        True, shown, note, service, window=HISTORY_WINDOW, releases=len(releases),
        active=len(releases) - len(finished), finished=len(finished),
        rollback_seconds=tuple(seconds), **counts)


def no_history(root: Path, service: str, reason: str) -> HistoryFacts:
    """History deliberately not read (``--no-history``)."""
    return HistoryFacts(False, masked_url(default_database_url(root)), reason, service)
