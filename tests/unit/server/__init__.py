"""Unit tests of the flag service: auth, ETags, events, routes, streaming, OpenAPI document."""
