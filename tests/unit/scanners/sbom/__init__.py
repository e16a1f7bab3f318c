"""Tests of the SBOM engine and the dependency readers."""
