"""Tests of the DAST baseline scanner, with in-memory and loopback sample sites."""
