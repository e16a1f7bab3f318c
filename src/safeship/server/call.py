"""One authorised request as the handlers see it, and who it acts for.

The actor recorded for a change is the name of the token that made it. A client acting for a
person (a deploy bot, an admin UI) adds ``X-Safeship-Actor: alice``; the history then says
``alice via <token name>``: the header alone proves nothing, so the token's name stays in
the record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from starlette.requests import Request

from safeship.server.auth import Principal
from safeship.server.problems import RequestRefused
from safeship.server.service import FlagService
from safeship.server.settings import ServiceSettings

ACTOR_HEADER = "X-Safeship-Actor"
MAX_ACTOR_LENGTH = 100
_ACTOR = re.compile(r"^[^\x00-\x1f\x7f]+$")


@dataclass(frozen=True)
class Call:
    """An authorised request: the request, the service, who sent it, the settings, and the
    decoded JSON body (None for requests without one)."""

    request: Request
    service: FlagService
    principal: Principal
    settings: ServiceSettings
    data: Any = None

    def path_key(self) -> str:
        """The ``{key}`` path parameter: the flag the request is about."""
        return str(self.request.path_params["key"])

    def query(self, name: str) -> str | None:
        """The query parameter ``name``, or None."""
        return self.request.query_params.get(name)

    def actor(self) -> str:
        """Who a change is recorded as (see the module docstring).

        Raises:
            RequestRefused: 400, the actor header is too long or holds control characters.
        """
        claimed = self.request.headers.get(ACTOR_HEADER)
        if claimed is None:
            return self.principal.name
        claimed = claimed.strip()
        if not claimed or len(claimed) > MAX_ACTOR_LENGTH or not _ACTOR.match(claimed):
            raise RequestRefused(
                HTTPStatus.BAD_REQUEST,
                f"{ACTOR_HEADER} must be 1 to {MAX_ACTOR_LENGTH} printable characters",
                field=ACTOR_HEADER)
        return f"{claimed} via {self.principal.name}"
