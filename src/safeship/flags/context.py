"""The evaluation context: who (or what) a flag is evaluated for.

It mirrors OpenFeature's evaluation context: a *targeting key* (the stable identity that
percentage rollouts hash, usually a user or session id) and free-form *attributes* that
targeting rules read (``country``, ``plan``, ``app_version``...). A rule names the targeting
key itself as the attribute ``targetingKey``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: The attribute name under which rules (and ``bucket_by``) read the targeting key.
TARGETING_KEY = "targetingKey"


@dataclass(frozen=True, slots=True)
class EvaluationContext:
    """The targeting key and the attributes of one evaluation.

    Attribute values are strings, numbers, booleans, or lists of those (a list matches when any
    element does). Other values (objects, None) never match a rule. The mapping is read, never
    changed.
    """

    targeting_key: str | None = None
    attributes: Mapping[str, object] = field(default_factory=dict)

    def get(self, attribute: str) -> object | None:
        """The value of ``attribute`` (``targetingKey`` is the targeting key), or None."""
        if attribute == TARGETING_KEY:
            return self.targeting_key
        return self.attributes.get(attribute)
