"""Scanners behind the security gates: secrets, dependencies, SBOMs, signatures, DAST."""
