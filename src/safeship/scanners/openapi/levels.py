"""How serious one API change is: ERR (breaking), WARN (maybe breaking), INFO (not breaking).

The three levels and their meaning are oasdiff's, so a rule id keeps the same level in both tools.
"""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    """The level of a change, most serious first."""

    ERR = "ERR"
    WARN = "WARN"
    INFO = "INFO"

    @property
    def rank(self) -> int:
        """2 for ERR, 1 for WARN, 0 for INFO: higher is more serious."""
        return {Level.ERR: 2, Level.WARN: 1, Level.INFO: 0}[self]

    def at_least(self, other: Level) -> bool:
        """True when this level is as serious as ``other`` or more."""
        return self.rank >= other.rank

    @classmethod
    def parse(cls, text: str) -> Level:
        """``err``/``ERR``/``error`` -> ERR and so on; ValueError for anything else."""
        aliases = {"ERROR": "ERR", "WARNING": "WARN"}
        key = text.strip().upper()
        return cls(aliases.get(key, key))
