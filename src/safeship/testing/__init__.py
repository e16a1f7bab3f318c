"""Test doubles that ship with safeship: a fake clock and scriptable gates.

They exist for the engine's unit tests (ours and plugin authors'). Real backends are tested
against real tools; these fakes only stand in where the engine is under test.
"""
