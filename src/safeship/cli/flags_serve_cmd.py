"""``safeship flags serve``: the feature-flag HTTP service (evaluation, snapshots, streaming
updates over Server-Sent Events, management), until interrupted.

Tokens: ``--read-token-file`` / ``--write-token-file`` (one token per line, ``NAME:TOKEN`` or
``TOKEN``) and ``$SAFESHIP_FLAGS_READ_TOKEN`` / ``$SAFESHIP_FLAGS_WRITE_TOKEN``. The service
refuses to start without a write token unless ``--unsafe-no-auth``, which warns every time.
It listens on 127.0.0.1 unless told otherwise. The store is ``$SAFESHIP_DATABASE_URL`` or
``.safeship/state.db`` under ``--project``; changes the CLI makes there reach the stream too.

Exit codes: 0 stopped, 2 bad options or token files, 3 the store is unavailable or the port
is taken, 130 interrupted.
"""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from safeship import api
from safeship._internal.durations import DurationSyntaxError, parse_duration
from safeship.cli.output import emit, stderr_console
from safeship.errors import UsageError
from safeship.flags import DEFAULT_ENVIRONMENT
from safeship.flags.validation import name_problem
from safeship.server.auth import READ_TOKEN_ENV, WRITE_TOKEN_ENV, Access, TokenSet
from safeship.server.serve import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    ServeOptions,
    is_loopback,
    run_flag_service,
)
from safeship.server.settings import ServiceSettings


class ServeFormat(StrEnum):
    """How ``serve`` announces itself once it listens."""

    TABLE = "table"
    JSON = "json"


def serve(
    host: Annotated[str, typer.Option(
        "--host", help="address to listen on (loopback unless you say otherwise)")]
    = DEFAULT_HOST,
    port: Annotated[int, typer.Option(
        "--port", "-p", min=0, max=65535, help="port to listen on (0: any free port)")]
    = DEFAULT_PORT,
    env: Annotated[str, typer.Option(
        "--env", "-e", help="default environment of requests that name none")]
    = DEFAULT_ENVIRONMENT,
    read_token_file: Annotated[Path | None, typer.Option(
        "--read-token-file", dir_okay=False,
        help=f"read tokens, one per line as NAME:TOKEN or TOKEN (also ${READ_TOKEN_ENV})")]
    = None,
    write_token_file: Annotated[Path | None, typer.Option(
        "--write-token-file", dir_okay=False,
        help=f"write tokens, same format (also ${WRITE_TOKEN_ENV}); required unless "
             "--unsafe-no-auth")] = None,
    unsafe_no_auth: Annotated[bool, typer.Option(
        "--unsafe-no-auth", help="UNSAFE: no tokens at all; anyone who reaches the port can "
                                 "change every flag")] = False,
    poll_interval: Annotated[str, typer.Option(
        "--poll-interval", help="how often changes made by other processes are picked up")]
    = "200ms",
    keepalive: Annotated[str, typer.Option(
        "--keepalive", help="keep-alive comment interval on idle streams")] = "15s",
    access_log: Annotated[bool, typer.Option(
        "--access-log/--no-access-log", help="log every request (never the tokens)")] = False,
    fmt: Annotated[ServeFormat, typer.Option(
        "--format", "-f", case_sensitive=False,
        help="table: a readable line once listening; json: one JSON object")]
    = ServeFormat.TABLE,
    project: Annotated[Path, typer.Option(
        "--project", "-C", file_okay=False,
        help="project root (its .safeship/state.db is the store unless "
             "SAFESHIP_DATABASE_URL is set)")] = Path(),
) -> None:
    """Serve the flags over HTTP until interrupted: evaluation (one flag, all flags, and
    snapshots for SDKs), streaming updates (Server-Sent Events), and management (create,
    change, enable, roll out, kill; every change with its actor and reason in the history).

    The API is described in docs/openapi/flags-v1.yaml and at GET /v1/openapi.json.
    """
    problem = name_problem(env, "--env")
    if problem is not None:
        raise UsageError(problem)
    settings = ServiceSettings(default_environment=env,
                               poll_interval_s=_duration("--poll-interval", poll_interval),
                               keepalive_s=_duration("--keepalive", keepalive))
    tokens: TokenSet | None = TokenSet.load(read_file=read_token_file,
                                            write_file=write_token_file, environ=os.environ)
    if unsafe_no_auth:
        tokens = None
    elif tokens is None or not tokens.has_write_token:
        raise UsageError(
            "the flag service needs a write token",
            hint=f"give --write-token-file FILE or set ${WRITE_TOKEN_ENV} (and a read token "
                 "for SDKs); --unsafe-no-auth serves without any authentication")
    console = stderr_console()
    if tokens is None and not is_loopback(host):
        console.print(f"warning: listening on {host} WITHOUT authentication: anyone on the "
                      "network can change every flag", style="bold red", markup=False)

    def announce(url: str) -> None:
        reads = writes = 0
        if tokens is not None:
            reads = sum(1 for _, access in tokens.names if access is Access.READ)
            writes = sum(1 for _, access in tokens.names if access is Access.WRITE)
        if fmt is ServeFormat.JSON:
            emit(json.dumps({"url": url, "environment": env, "auth": tokens is not None,
                             "read_tokens": reads, "write_tokens": writes}), None)
            return
        auth = ("OFF (--unsafe-no-auth)" if tokens is None
                else f"{reads} read and {writes} write token(s)")
        emit(f"serving flags at {url} (default environment {env}; authentication: {auth}); "
             "Ctrl+C stops", None)

    run_flag_service(os.environ.get(api.DATABASE_URL_ENV) or None, project.resolve(), tokens,
                     ServeOptions(host=host, port=port, settings=settings,
                                  access_log=access_log),
                     on_ready=announce)


def _duration(option: str, text: str) -> float:
    try:
        seconds = parse_duration(text)
    except DurationSyntaxError as exc:
        raise UsageError(f"{option}: {exc}") from None
    if seconds <= 0:
        raise UsageError(f"{option} must be longer than 0")
    return seconds
