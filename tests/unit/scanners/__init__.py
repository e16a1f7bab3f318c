"""Tests of the scanners behind the security gates."""
