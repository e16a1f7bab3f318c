"""Integration tests against real servers started by fixtures on 127.0.0.1."""
