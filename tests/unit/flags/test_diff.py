"""diff_documents: the field-level changes shown in a flag's history."""

from __future__ import annotations

from safeship.flags.diff import FieldChange, diff_documents


def test_changed_added_and_removed_fields() -> None:
    before = {"a": 1, "env": {"on": False, "rules": [{"id": "x"}]}, "gone": "y"}
    after = {"a": 1, "env": {"on": True, "rules": [{"id": "x"}, {"id": "z"}]}, "new": [1]}
    changes = diff_documents(before, after)
    assert [c.render() for c in changes] == [
        "env.on: false -> true",
        'env.rules[1]: added {"id": "z"}',
        "gone: removed",
        "new: added [1]",
    ]


def test_type_changes_and_shortening() -> None:
    [change] = diff_documents({"v": 1}, {"v": True})
    assert (change.before, change.after) == (1, True)
    long = FieldChange(("k",), "a" * 100, "b")
    assert long.render(20) == 'k: "' + "a" * 16 + '... -> "b"'
    assert FieldChange((), 1, 2).render() == "(document): 1 -> 2"
    assert diff_documents({"a": [1, 2]}, {"a": [1]})[0].render() == "a[1]: removed"
    assert diff_documents({"same": {"x": [1]}}, {"same": {"x": [1]}}) == []
