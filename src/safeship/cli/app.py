"""The ``safeship`` command: sub-commands, global options, and errors -> exit codes.

Exit codes (also in the README): 0 passed, 1 blocked by policy, 2 usage or config invalid,
3 a dependency unavailable, 4 inconclusive or waiting for approval, 70 internal bug,
130 interrupted. ``-v`` shows tracebacks.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated

import typer

from safeship import __version__
from safeship.cli import (
    config_cmd,
    contract_cmd,
    cve_cmd,
    dast_cmd,
    flags_cmd,
    gates_cmd,
    migrations_cmd,
    rollout_cmd,
    sbom_cmd,
    secrets_cmd,
    signing_cmd,
    slo_cmd,
)
from safeship.cli.analyze_cmd import analyze_command
from safeship.cli.assess_cmd import assess_command
from safeship.cli.demo_cmd import demo_command
from safeship.cli.history_cmd import approve_command, history_command, reject_command
from safeship.cli.init_cmd import init_command
from safeship.cli.log_setup import configure_logging
from safeship.cli.output import stderr_console
from safeship.cli.recommend_cmd import recommend_command
from safeship.cli.state import OPTIONS
from safeship.errors import ExitCode, SafeshipError

log = logging.getLogger(__name__)

app = typer.Typer(
    name="safeship",
    help="Safe, automated deployments: gates as code, progressive delivery, canary analysis.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(gates_cmd.app, name="gates")
app.add_typer(config_cmd.app, name="config")
app.add_typer(sbom_cmd.app, name="sbom")
app.add_typer(cve_cmd.app, name="cve")
app.add_typer(dast_cmd.app, name="dast")
app.add_typer(secrets_cmd.app, name="secrets")
app.add_typer(rollout_cmd.app, name="rollout")
app.add_typer(contract_cmd.app, name="contract")
app.add_typer(migrations_cmd.app, name="migrations")
app.add_typer(slo_cmd.app, name="slo")
app.add_typer(flags_cmd.app, name="flags")
app.add_typer(signing_cmd.keys_app, name="keys")
app.command("sign")(signing_cmd.sign_command)
app.command("verify")(signing_cmd.verify_command)
app.command("history")(history_command)
app.command("approve")(approve_command)
app.command("reject")(reject_command)
app.command("init")(init_command)
app.command("analyze")(analyze_command)
app.command("recommend")(recommend_command)
app.command("assess")(assess_command)
app.command("demo")(demo_command)


class LogFormat(StrEnum):
    """Formats of the log stream on stderr."""

    TEXT = "text"
    JSON = "json"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"safeship {__version__}")
        raise typer.Exit(0)


@app.callback()
def global_options(
    verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                          help="debug logs and tracebacks")] = False,
    log_format: Annotated[LogFormat, typer.Option("--log-format",
                                                  help="text or json logs on stderr")]
    = LogFormat.TEXT,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="print the version and exit")] = False,
) -> None:
    """Safe, automated deployments from commit to production."""
    OPTIONS.verbose = verbose
    OPTIONS.log_format = log_format.value
    configure_logging(log_format.value, verbose)


def _report(error: SafeshipError) -> int:
    console = stderr_console()
    lines = error.diagnostics()
    console.print(f"error: {lines[0]}", style="bold red", markup=False, highlight=False)
    for line in lines[1:]:
        console.print(f"  {line}", markup=False, highlight=False)
    if OPTIONS.verbose:
        console.print("".join(traceback.format_exception(error)), markup=False)
    log.debug("%s exit %d", type(error).__name__, error.exit_code)
    return error.exit_code


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` and return the exit code instead of exiting."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = app(args=args, prog_name="safeship", standalone_mode=False)
    except (typer.Abort, KeyboardInterrupt):
        stderr_console().print("interrupted", markup=False)
        return ExitCode.INTERRUPTED
    except typer.TyperException as exc:
        # Bad arguments: Typer/Click already phrased the message and the usage line.
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            stderr_console().print(f"error: {exc}", markup=False)
        return ExitCode.USAGE
    except SafeshipError as exc:
        return _report(exc)
    except Exception as exc:
        console = stderr_console()
        console.print(f"internal error: {type(exc).__name__}: {exc}", style="bold red",
                      markup=False, highlight=False)
        if OPTIONS.verbose:
            console.print("".join(traceback.format_exception(exc)), markup=False)
        else:
            console.print("  this is a bug in safeship; run again with -v for the traceback",
                          markup=False)
        return ExitCode.INTERNAL
    return result if isinstance(result, int) else ExitCode.OK


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())
