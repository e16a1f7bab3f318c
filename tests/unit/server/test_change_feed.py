"""The change feed over a real SQLite store: the data version and the changes after it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from safeship.errors import InternalError, StoreUnavailable
from safeship.flags import changes
from safeship.server.change_feed import ChangeFeed
from safeship.store.flags import FlagStore
from safeship.store.urls import default_database_url
from tests.unit.store.flag_store_checks import T0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FlagStore]:
    opened = FlagStore.open(None, tmp_path)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def feed(tmp_path: Path, store: FlagStore) -> Iterator[ChangeFeed]:
    opened = ChangeFeed(default_database_url(tmp_path))
    try:
        yield opened
    finally:
        opened.close()


def test_version_counts_changes_and_ignores_non_changes(store: FlagStore,
                                                        feed: ChangeFeed) -> None:
    assert feed.current_version() == 0
    store.create(changes.new_flag("a"), actor="ann", reason="new", at=T0)
    store.create(changes.new_flag("b"), actor="ann", reason="new", at=T0)
    assert feed.current_version() == 2
    store.update("a", changes.kill, action="kill", actor="bob", reason="INC", at=T0)
    store.update("a", changes.kill, action="kill", actor="bob", reason="again", at=T0)
    assert feed.current_version() == 3  # killing a killed flag records nothing


def test_changes_since_lists_newer_changes_oldest_first(store: FlagStore,
                                                        feed: ChangeFeed) -> None:
    store.create(changes.new_flag("a"), actor="ann", reason="new", at=T0)
    store.update("a", lambda f: changes.enable(f, "production"), action="enable", actor="bob",
                 reason="go", at=T0)
    store.create(changes.new_flag("b"), actor="cy", reason="new", at=T0)
    notes = feed.changes_since(1)
    assert [(n.version, n.flag_key, n.flag_version, n.action, n.actor) for n in notes] == [
        (2, "a", 2, "enable", "bob"), (3, "b", 1, "create", "cy")]
    assert notes[0].definition is not None
    assert notes[0].definition["environments"]["production"]["enabled"] is True
    assert notes[0].at == T0
    assert [n.version for n in feed.changes_since(0, limit=2)] == [1, 2]
    assert feed.changes_since(3) == []


def test_a_closed_feed_refuses_to_read(feed: ChangeFeed) -> None:
    feed.close()
    with pytest.raises(InternalError):
        feed.current_version()


def test_an_unreadable_store_is_unavailable(tmp_path: Path) -> None:
    feed = ChangeFeed(f"sqlite:///{tmp_path}/missing-dir/state.db")
    try:
        with pytest.raises(StoreUnavailable, match="read the flag data version"):
            feed.current_version()
    finally:
        feed.close()
