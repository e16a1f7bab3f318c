"""Network endpoints that serve a version, shared by routers and targets."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    """Where one instance of a version listens (host may be a name or an address)."""

    host: str
    port: int

    def url(self, scheme: str = "http") -> str:
        """``scheme://host:port``, with IPv6 hosts bracketed."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"
