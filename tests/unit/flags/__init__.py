"""Unit tests of the feature-flag model, rules, bucketing, evaluation and codec."""
