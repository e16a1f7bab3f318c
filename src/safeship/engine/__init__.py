"""Orchestration against interfaces only: the gate pipeline, risk policy and the clock."""
