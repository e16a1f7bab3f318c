"""Shannon entropy of a candidate secret, in bits per character.

Random tokens score high (a 40-character base62 token is about 5), words and placeholders score
low (``changeme`` is 2.75), so a minimum entropy keeps generic rules quiet.
"""

from __future__ import annotations

import math
from collections import Counter


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text`` (0 for an empty string)."""
    if not text:
        return 0.0
    length = len(text)
    return -sum(count / length * math.log2(count / length) for count in Counter(text).values())
