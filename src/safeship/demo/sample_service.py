"""Writes the demo's sample Python service: code with one lint error, tests, and .pipeline/."""

from __future__ import annotations

from pathlib import Path

PRICING_WITH_LINT_ERROR = '''\
"""Prices of the demo shop."""

import os


def total(prices: list[float], discount: float = 0.0) -> float:
    """Sum the prices and apply a discount between 0 and 1."""
    if not 0 <= discount <= 1:
        raise ValueError("discount must be between 0 and 1")
    return round(sum(prices) * (1 - discount), 2)


def free_shipping(amount: float) -> bool:
    """Orders of 50 or more ship for free."""
    return amount >= 50
'''

TESTS = '''\
"""Tests of the demo shop's prices."""

import unittest

from shop.pricing import free_shipping, total


class PricingTest(unittest.TestCase):
    def test_total_applies_discount(self) -> None:
        self.assertEqual(total([10.0, 30.0], 0.25), 30.0)

    def test_bad_discount_is_refused(self) -> None:
        with self.assertRaises(ValueError):
            total([1.0], 2)

    def test_free_shipping_threshold(self) -> None:
        self.assertTrue(free_shipping(50))
        self.assertFalse(free_shipping(49.99))


if __name__ == "__main__":
    unittest.main()
'''

SERVICE = """\
apiVersion: safeship/v1
kind: Service
name: demo-shop
risk: low
"""

GATES = """\
version: 2
stages:
  - name: pre_commit
    gates:
      - type: lint
        tool: (any linter)
        threshold: error_free
  - name: build
    gates:
      - type: compile
  - name: unit_test
    gates:
      - type: coverage
        report: coverage.json
        minimum: 80%
        fail_on_below: true
  - name: pre_deploy_slo
    type: api_call
    endpoint: "{endpoint}"
    condition: "budget_remaining > 0.05" # >5% remaining
    fail_message: "Error budget too low - deploy blocked"
"""


def write_sample(root: Path, budget_endpoint: str) -> None:
    """Create the sample service under ``root`` (with its deliberate lint error)."""
    (root / "shop").mkdir(parents=True, exist_ok=True)
    (root / "tests").mkdir(exist_ok=True)
    (root / "shop" / "__init__.py").write_text('"""The demo shop."""\n', encoding="utf-8")
    (root / "shop" / "pricing.py").write_text(PRICING_WITH_LINT_ERROR, encoding="utf-8")
    (root / "tests" / "__init__.py").write_text("", encoding="utf-8")
    (root / "tests" / "test_pricing.py").write_text(TESTS, encoding="utf-8")
    pipeline = root / ".pipeline"
    pipeline.mkdir(exist_ok=True)
    (pipeline / "service.yaml").write_text(SERVICE, encoding="utf-8")
    (pipeline / "gates.yaml").write_text(GATES.format(endpoint=budget_endpoint),
                                         encoding="utf-8")


def fix_lint_error(root: Path) -> str:
    """Remove the unused import; return a one-line description of the fix."""
    path = root / "shop" / "pricing.py"
    path.write_text(path.read_text(encoding="utf-8").replace("import os\n\n\n", ""),
                    encoding="utf-8")
    return "removed the unused `import os` from shop/pricing.py"
