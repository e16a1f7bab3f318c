"""Checks of the flag store shared by the SQLite unit tests and the PostgreSQL integration
tests: the same behaviour must hold on both backends."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta

from safeship.flags import Flag, FlagType, changes
from safeship.store.flags import FlagStore

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
THREADS = 8
UPDATES_PER_THREAD = 25
_JOIN_TIMEOUT_S = 120.0


def _increment(flag: Flag, variant: str) -> Flag:
    return changes.set_variants(flag, [(variant, flag.value_of(variant) + 1)])


def check_concurrent_updates_lose_nothing(store: FlagStore) -> None:
    """8 threads x 25 read-modify-write updates of one flag, each adding 1 to its thread's own
    counter (a variant value): a lost update would leave a counter short, skip a version or
    miss a history entry."""
    counters = [(f"t{thread}", 0) for thread in range(THREADS)]
    store.create(changes.new_flag("contended", FlagType.NUMBER,
                                  variants=[("off", 0), *counters]),
                 actor="setup", reason="start", at=T0)
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def work(thread: int) -> None:
        try:
            start.wait(timeout=30)
            for number in range(UPDATES_PER_THREAD):
                store.update("contended", lambda f: _increment(f, f"t{thread}"),
                             action=changes.FlagAction.SET, actor=f"thread-{thread}",
                             reason=f"t{thread}-{number}", at=T0 + timedelta(seconds=number))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=_JOIN_TIMEOUT_S)
    assert not any(worker.is_alive() for worker in workers), "a writer hung"
    assert errors == []

    total = THREADS * UPDATES_PER_THREAD
    stored = store.get("contended")
    assert stored.version == 1 + total
    assert {name: stored.flag.value_of(name) for name, _ in counters} == {
        name: UPDATES_PER_THREAD for name, _ in counters}
    expected = {f"t{t}-{n}" for t in range(THREADS) for n in range(UPDATES_PER_THREAD)}

    history = store.history("contended")
    assert [change.version for change in history] == list(range(1, total + 2))
    assert {change.reason for change in history[1:]} == expected
    for previous, change in itertools.pairwise(history):
        # every change starts from the definition the previous one left
        assert change.before == previous.after
    events = store.audit_events(subject="contended", limit=total + 10)
    assert len(events) == total + 1
    assert sorted(event.details["version"] for event in events) == list(range(1, total + 2))
