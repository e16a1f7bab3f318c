"""Frozen dataclasses and enums shared by every layer: verdicts, findings, gate and run results."""
