"""``safeship flags``: feature flags in the state store: create, target, roll out, kill, evaluate.

Every change is recorded with who (``--actor``, default ``$SAFESHIP_ACTOR``, ``$USER``, then
``git config user.email``), why (``--reason``, required) and the definition before and after;
``flags history FLAG`` shows the trail. ``flags eval`` evaluates in this process against the
store, so checking thousands of keys needs no server.

The store is ``$SAFESHIP_DATABASE_URL`` or ``.safeship/state.db`` under ``--project``.

Exit codes: 0 done, 2 bad arguments or definition (file:line:col), 3 store unavailable,
4 ``eval`` produced an ERROR result (e.g. a prerequisite flag is missing).
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from safeship import api
from safeship._internal.percents import PercentSyntaxError, format_percent, parse_fraction
from safeship._internal.subprocess import run_command
from safeship.cli.flags_serve_cmd import serve as serve_command
from safeship.cli.output import emit, stderr_console, stdout_console
from safeship.config.flag_file import read_flag_file
from safeship.config.yaml_source import format_path
from safeship.errors import ExitCode, ToolUnavailable, UsageError
from safeship.flags import (
    DEFAULT_ENVIRONMENT,
    TARGETING_KEY,
    Evaluation,
    EvaluationContext,
    Flag,
    FlagType,
    evaluate,
)
from safeship.flags import changes as change
from safeship.flags.bucketing import percent_text, weight_of
from safeship.flags.changes import FlagAction
from safeship.flags.codec import flag_from_file, flag_to_dict
from safeship.flags.compact import (
    environment_state,
    parse_attribute,
    parse_prerequisite,
    parse_rule,
    parse_variant,
    rule_text,
    serve_text,
)
from safeship.flags.model import thaw
from safeship.store.flags import FlagChange, FlagStore, FlagUpdate, StoredFlag

app = typer.Typer(
    help="Feature flags: create, target, roll out, kill and evaluate (kept in the state "
         "store, with the full history of every change).",
    no_args_is_help=True,
)
app.command("serve")(serve_command)


class OutputFormat(StrEnum):
    """Output formats of every ``flags`` command."""

    TABLE = "table"
    JSON = "json"


# Shared option declarations.
Project = Annotated[Path, typer.Option("--project", "-C", file_okay=False,
                                       help="project root (its .safeship/state.db is the "
                                            "store unless SAFESHIP_DATABASE_URL is set)")]
Format = Annotated[OutputFormat, typer.Option("--format", "-f", case_sensitive=False,
                                              help="table or json")]
Actor = Annotated[str | None, typer.Option(
    "--actor", help="who makes the change (default: $SAFESHIP_ACTOR, $USER, git user.email)")]
Reason = Annotated[str, typer.Option("--reason", help="why: recorded in the history")]
Env = Annotated[str, typer.Option("--env", "-e", help="environment, e.g. dev, staging, "
                                                      "production")]
FlagKey = Annotated[str, typer.Argument(help="the flag key, e.g. new-checkout")]

_SHOWN_RESULTS = 50
_SHOWN_FIELDS = 6


# --------------------------------------------------------------------------- plumbing


def _store(project: Path) -> FlagStore:
    return FlagStore.open(os.environ.get(api.DATABASE_URL_ENV) or None, project.resolve())


def _now() -> datetime:
    return datetime.now(UTC)


def default_actor(env: dict[str, str] | None = None) -> str:
    """Who is changing flags: ``$SAFESHIP_ACTOR``, ``$USER``, git's ``user.email``, the login
    name, or ``unknown``."""
    values = dict(os.environ) if env is None else env
    for name in ("SAFESHIP_ACTOR", "USER"):
        if values.get(name, "").strip():
            return values[name].strip()
    try:
        result = run_command(["git", "config", "user.email"], timeout_s=5)
        if result.returncode == 0 and result.stdout.strip():
            return result.stdout.strip()
    except ToolUnavailable:  # no git: fall through to the login name
        pass
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _write(project: Path, key: str, action: FlagAction, fn: Callable[[Flag], Flag],
           actor: str | None, reason: str, expected_version: int | None = None) -> FlagUpdate:
    store = _store(project)
    try:
        return store.update(key, fn, action=action, actor=actor or default_actor(),
                            reason=reason, at=_now(), expected_version=expected_version)
    finally:
        store.close()


def _stored_json(stored: StoredFlag, **extra: Any) -> dict[str, Any]:
    return {
        "flag": stored.flag.key,
        "version": stored.version,
        **extra,
        "created_at": stored.created_at.isoformat(),
        "created_by": stored.created_by,
        "updated_at": stored.updated_at.isoformat(),
        "updated_by": stored.updated_by,
        "definition": flag_to_dict(stored.flag),
    }


def _report(result: FlagUpdate, fmt: OutputFormat, done: str, unchanged: str) -> None:
    stored = result.stored
    if fmt is OutputFormat.JSON:
        emit(json.dumps(_stored_json(stored, changed=result.changed), indent=2), None)
        return
    console = stdout_console()
    if result.changed:
        console.print(f"flag {stored.flag.key} (version {stored.version}): {done}",
                      markup=False)
    else:
        console.print(f"flag {stored.flag.key} (version {stored.version}): {unchanged}; "
                      "nothing recorded", markup=False)
    console.print(_states_line(stored.flag), markup=False)


def _states_line(flag: Flag) -> str:
    if not flag.environments:
        return "  no environments yet: off everywhere"
    parts = []
    for name, environment in flag.environments.items():
        state = environment_state(environment)
        if environment.serving:
            state += f", default {serve_text(environment.default)}"
            if environment.rules:
                state += f", {len(environment.rules)} rule(s)"
        parts.append(f"{name}: {state}")
    return "  " + "; ".join(parts)


def _fraction(text: str) -> float:
    try:
        return parse_fraction(text)
    except PercentSyntaxError as exc:
        raise UsageError(f"--to: {exc}", hint="e.g. --to 5% or --to 0.05") from None


# --------------------------------------------------------------------------- create


@app.command("create")
def create_command(
    key: FlagKey,
    reason: Reason,
    flag_type: Annotated[FlagType, typer.Option(
        "--type", "-t", case_sensitive=False, help="boolean, string, number or json")]
    = FlagType.BOOLEAN,
    variant: Annotated[list[str] | None, typer.Option(
        "--variant", help="NAME=VALUE, repeatable (boolean flags default to on=true, "
                          "off=false)")] = None,
    off_variant: Annotated[str | None, typer.Option(
        "--off-variant", help="served while off or killed (default: the false variant, "
                              "else the first)")] = None,
    env: Annotated[list[str] | None, typer.Option(
        "--env", "-e", help=f"environment to set up, repeatable (default: "
                            f"{DEFAULT_ENVIRONMENT})")] = None,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    file: Annotated[Path | None, typer.Option(
        "--file", help="the whole definition in a YAML or JSON file instead of options",
        dir_okay=False)] = None,
    actor: Actor = None,
    fmt: Format = OutputFormat.TABLE,
    project: Project = Path(),
) -> None:
    """Create a flag. It is off everywhere (serves its off variant) until enabled."""
    if file is not None:
        if variant or off_variant or env or description or flag_type is not FlagType.BOOLEAN:
            raise UsageError("give either --file or the definition options, not both")
        flag = flag_from_file(read_flag_file(file), key=key)
    else:
        flag = change.new_flag(
            key, flag_type,
            variants=[parse_variant(text, flag_type) for text in variant or []],
            off_variant=off_variant, environments=env or [DEFAULT_ENVIRONMENT],
            description=description)
    store = _store(project)
    try:
        stored = store.create(flag, actor=actor or default_actor(), reason=reason, at=_now())
    finally:
        store.close()
    serving = [name for name, environment in flag.environments.items() if environment.serving]
    done = (f"created, on in {', '.join(serving)}" if serving
            else f"created; serves '{flag.off_variant}' until enabled")
    _report(FlagUpdate(stored, changed=True), fmt, done, "exists")


# --------------------------------------------------------------------------- reading


@app.command("list")
def list_command(
    fmt: Format = OutputFormat.TABLE,
    project: Project = Path(),
) -> None:
    """List every flag with its state in each environment."""
    store = _store(project)
    try:
        stored = store.list_flags()
    finally:
        store.close()
    if fmt is OutputFormat.JSON:
        emit(json.dumps({"flags": [_list_entry(s) for s in stored]}, indent=2), None)
        return
    console = stdout_console()
    if not stored:
        console.print("no flags yet; create one with `safeship flags create KEY --reason ...`",
                      markup=False)
        return
    names = sorted({name for s in stored for name in s.flag.environments})
    table = Table(title="feature flags")
    for column in ("flag", "type", "version", *names, "updated"):
        table.add_column(column)
    for s in stored:
        cells = [_state_cell(s.flag, name) for name in names]
        table.add_row(s.flag.key, s.flag.flag_type.value, str(s.version), *cells,
                      f"{s.updated_at:%Y-%m-%d %H:%M} by {s.updated_by}")
    console.print(table)


def _state_cell(flag: Flag, environment: str) -> str:
    env = flag.environment(environment)
    state = environment_state(env)
    if env is not None and env.serving:
        state += f": {serve_text(env.default)}"
        if env.rules:
            state += f" +{len(env.rules)} rule(s)"
    return state


def _list_entry(stored: StoredFlag) -> dict[str, Any]:
    return {
        "key": stored.flag.key,
        "type": stored.flag.flag_type.value,
        "version": stored.version,
        "updated_at": stored.updated_at.isoformat(),
        "updated_by": stored.updated_by,
        "environments": {
            name: {"state": environment_state(env), "enabled": env.enabled,
                   "killed": env.killed, "rules": len(env.rules),
                   "default": serve_text(env.default)}
            for name, env in stored.flag.environments.items()
        },
    }


@app.command("show")
def show_command(
    key: FlagKey,
    fmt: Format = OutputFormat.TABLE,
    project: Project = Path(),
) -> None:
    """Show a flag's whole definition: variants, prerequisites, and per environment its state,
    rules and default. JSON output holds the definition document under "definition"."""
    store = _store(project)
    try:
        stored = store.get(key)
    finally:
        store.close()
    if fmt is OutputFormat.JSON:
        emit(json.dumps(_stored_json(stored), indent=2), None)
        return
    flag = stored.flag
    console = stdout_console()
    console.print(f"flag {flag.key} ({flag.flag_type.value}), version {stored.version}, "
                  f"changed {stored.updated_at:%Y-%m-%d %H:%M} by {stored.updated_by}",
                  markup=False)
    if flag.description:
        console.print(f"  {flag.description}", markup=False)
    variants = ", ".join(
        f"{v.name}={json.dumps(thaw(v.value))}" + (" (off)" if v.name == flag.off_variant else "")
        for v in flag.variants)
    console.print(f"variants: {variants}", markup=False)
    for prerequisite in flag.prerequisites:
        console.print(f"prerequisite: {prerequisite.flag} is "
                      f"{' or '.join(prerequisite.variants)}", markup=False)
    if not flag.environments:
        console.print("no environments: off everywhere", markup=False)
    for name, env in flag.environments.items():
        console.print(f"{name}: {environment_state(env)}", markup=False)
        for rule in env.rules:
            console.print(f"  rule {rule_text(rule)}", markup=False)
        console.print(f"  default -> {serve_text(env.default)}", markup=False)


# --------------------------------------------------------------------------- changes


@app.command("set")
def set_command(
    key: FlagKey,
    reason: Reason,
    file: Annotated[Path | None, typer.Option(
        "--file", help="replace the whole definition with this YAML/JSON file (same key and "
                       "type; a killed environment stays killed)", dir_okay=False)] = None,
    variant: Annotated[list[str] | None, typer.Option(
        "--variant", help="add or change a variant: NAME=VALUE, repeatable")] = None,
    remove_variant: Annotated[list[str] | None, typer.Option(
        "--remove-variant", help="remove a variant no environment serves, repeatable")]
    = None,
    off_variant: Annotated[str | None, typer.Option("--off-variant")] = None,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    env: Env = DEFAULT_ENVIRONMENT,
    rule: Annotated[list[str] | None, typer.Option(
        "--rule", help="replace the environment's rules, in order: "
                       "'ID: ATTR OP VALUE [and ...] -> VARIANT', repeatable")] = None,
    clear_rules: Annotated[bool, typer.Option(
        "--clear-rules", help="remove every rule of the environment")] = False,
    serve: Annotated[str | None, typer.Option(
        "--serve", help="serve this variant by default in the environment (ends a rollout)")]
    = None,
    prerequisite: Annotated[list[str] | None, typer.Option(
        "--prerequisite", help="replace the prerequisites: FLAG=VARIANT[,VARIANT], "
                               "repeatable")] = None,
    clear_prerequisites: Annotated[bool, typer.Option("--clear-prerequisites")] = False,
    if_version: Annotated[int | None, typer.Option(
        "--if-version", min=1, help="apply only if the flag is still at this version")] = None,
    actor: Actor = None,
    fmt: Format = OutputFormat.TABLE,
    project: Project = Path(),
) -> None:
    """Change a flag's definition: from a file (--file), or variants, rules, default serve and
    prerequisites given as options."""
    options_given = any((variant, remove_variant, off_variant, description is not None, rule,
                         clear_rules, serve, prerequisite, clear_prerequisites))
    if file is not None and options_given:
        raise UsageError("give either --file or options, not both")
    if rule and clear_rules:
        raise UsageError("give either --rule or --clear-rules, not both")
    if prerequisite and clear_prerequisites:
        raise UsageError("give either --prerequisite or --clear-prerequisites, not both")
    if file is not None:
        replacement = flag_from_file(read_flag_file(file), key=key)

        def apply(flag: Flag) -> Flag:
            return change.replace_definition(flag, replacement)
    elif options_given:
        rules = [parse_rule(text, position) for position, text in enumerate(rule or [], 1)]
        prerequisites = [parse_prerequisite(text) for text in prerequisite or []]

        def apply(flag: Flag) -> Flag:
            new = flag
            if variant:
                new = change.set_variants(
                    new, [parse_variant(text, new.flag_type) for text in variant])
            if off_variant is not None:
                new = change.set_off_variant(new, off_variant)
            if description is not None:
                new = change.set_description(new, description)
            if rule or clear_rules:
                new = change.set_rules(new, env, rules)
            if serve is not None:
                new = change.set_default(new, env, serve)
            if prerequisite or clear_prerequisites:
                new = change.set_prerequisites(new, prerequisites)
            if remove_variant:
                new = change.remove_variants(new, remove_variant)
            return new
    else:
        raise UsageError("nothing to change", hint="give --file, or options such as --variant, "
                                                   "--rule, --serve or --prerequisite")
    result = _write(project, key, FlagAction.SET, apply, actor, reason, if_version)
    _report(result, fmt, "definition changed", "the definition already says that")


@app.command("enable")
def enable_command(
    key: FlagKey, reason: Reason, env: Env = DEFAULT_ENVIRONMENT, actor: Actor = None,
    fmt: Format = OutputFormat.TABLE, project: Project = Path(),
) -> None:
    """Turn a flag on in one environment (its rules and default apply). Lifts the kill switch
    in that environment only."""
    result = _write(project, key, FlagAction.ENABLE, lambda f: change.enable(f, env), actor,
                    reason)
    _report(result, fmt, f"enabled in {env}", f"already enabled in {env}")


@app.command("disable")
def disable_command(
    key: FlagKey, reason: Reason, env: Env = DEFAULT_ENVIRONMENT, actor: Actor = None,
    fmt: Format = OutputFormat.TABLE, project: Project = Path(),
) -> None:
    """Turn a flag off in one environment: it serves its off variant there."""
    result = _write(project, key, FlagAction.DISABLE, lambda f: change.disable(f, env), actor,
                    reason)
    _report(result, fmt, f"disabled in {env}", f"already off in {env}")


@app.command("rollout")
def rollout_command(
    key: FlagKey,
    to: Annotated[str, typer.Option("--to", help="share of keys to get the variant, e.g. 5% "
                                                 "or 0.05")],
    reason: Reason,
    env: Env = DEFAULT_ENVIRONMENT,
    variant: Annotated[str | None, typer.Option(
        "--variant", help="variant to roll out (default: a boolean flag's true variant)")]
    = None,
    bucket_by: Annotated[str, typer.Option(
        "--bucket-by", help="attribute whose value is hashed (default: the targeting key)")]
    = TARGETING_KEY,
    actor: Actor = None,
    fmt: Format = OutputFormat.TABLE,
    project: Project = Path(),
) -> None:
    """Roll a variant out to a percentage of keys, by consistent hashing.

    Keys that match no rule get the variant when their bucket falls in the percentage, the off
    variant otherwise. Raising the percentage keeps every key that already had it. The
    environment must be enabled for the rollout to take effect.
    """
    fraction = _fraction(to)
    result = _write(
        project, key, FlagAction.ROLLOUT,
        lambda f: change.set_rollout(f, env, fraction, variant=variant, bucket_by=bucket_by),
        actor, reason)
    _report(result, fmt, f"rolled out to {percent_text(weight_of(fraction))} in {env}",
            "the rollout already says that")
    environment = result.stored.flag.environment(env)
    if fmt is OutputFormat.TABLE and environment is not None and not environment.serving:
        stdout_console().print(
            f"note: the flag is {environment_state(environment)} in {env}; the rollout takes "
            f"effect once it is enabled (`safeship flags enable {key} --env {env}`)",
            markup=False)


@app.command("kill")
def kill_command(
    key: FlagKey, reason: Reason, actor: Actor = None, fmt: Format = OutputFormat.TABLE,
    project: Project = Path(),
) -> None:
    """Kill switch: serve the off variant in every environment at once, whatever the rules and
    rollouts say, until `unkill` (or `enable` per environment)."""
    result = _write(project, key, FlagAction.KILL, change.kill, actor, reason)
    _report(result, fmt, f"KILLED: '{result.stored.flag.off_variant}' is served everywhere",
            "already killed everywhere")


@app.command("unkill")
def unkill_command(
    key: FlagKey, reason: Reason, actor: Actor = None, fmt: Format = OutputFormat.TABLE,
    project: Project = Path(),
) -> None:
    """Lift the kill switch everywhere: each environment serves what it did before the kill."""
    result = _write(project, key, FlagAction.UNKILL, change.unkill, actor, reason)
    _report(result, fmt, "kill switch lifted", "not killed")


# --------------------------------------------------------------------------- history


@app.command("history")
def history_command(
    key: FlagKey,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1,
                                              help="only the newest N changes")] = None,
    fmt: Format = OutputFormat.TABLE,
    project: Project = Path(),
) -> None:
    """Show who changed a flag, when, why, and what changed (oldest first)."""
    store = _store(project)
    try:
        entries = store.history(key, limit=limit)
    finally:
        store.close()
    if fmt is OutputFormat.JSON:
        emit(json.dumps({"flag": key, "changes": [_change_json(c) for c in entries]},
                        indent=2), None)
        return
    table = Table(title=f"history of flag {key}")
    for column in ("version", "at", "actor", "action", "reason", "changes"):
        table.add_column(column)
    for entry in entries:
        table.add_row(str(entry.version), f"{entry.at:%Y-%m-%d %H:%M:%S}", entry.actor,
                      entry.action, entry.reason, _fields_text(entry))
    stdout_console().print(table)


def _fields_text(entry: FlagChange) -> str:
    if entry.before is None:
        return "created"
    lines = [field.render(50) for field in entry.fields[:_SHOWN_FIELDS]]
    if len(entry.fields) > _SHOWN_FIELDS:
        lines.append(f"... and {len(entry.fields) - _SHOWN_FIELDS} more")
    return "\n".join(lines)


def _change_json(entry: FlagChange) -> dict[str, Any]:
    return {
        "version": entry.version,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "reason": entry.reason,
        "changes": [
            {"path": format_path(field.path), "before": field.before, "after": field.after}
            for field in entry.fields
        ],
        "before": entry.before,
        "after": entry.after,
    }


# --------------------------------------------------------------------------- evaluation


@app.command("eval")
def eval_command(
    key: FlagKey,
    targeting_key: Annotated[list[str] | None, typer.Option(
        "--key", "-k", help="targeting key (user id...) to evaluate for, repeatable")] = None,
    keys_file: Annotated[Path | None, typer.Option(
        "--keys-file", help="file with one targeting key per line ('-' for stdin)",
        dir_okay=False, allow_dash=True)] = None,
    attr: Annotated[list[str] | None, typer.Option(
        "--attr", "-a", help="context attribute NAME=VALUE, repeatable")] = None,
    env: Env = DEFAULT_ENVIRONMENT,
    fmt: Format = OutputFormat.TABLE,
    project: Project = Path(),
) -> None:
    """Evaluate a flag for one or many keys, in this process against the store (no server).

    JSON: {"flag", "environment", "results": [{"key", "variant", "value", "reason", "rule_id",
    "error_code"}]}. Exit code 4 when any result is an ERROR.
    """
    keys = [*(targeting_key or []), *_read_keys(keys_file)]
    if not keys:
        raise UsageError("no key to evaluate for", hint="give --key KEY or --keys-file FILE")
    attributes = dict(parse_attribute(text) for text in attr or [])
    store = _store(project)
    try:
        flag = store.get(key).flag
        others = store.flags() if flag.prerequisites else {}
    finally:
        store.close()
    if flag.environment(env) is None:
        known = ", ".join(flag.environments) or "none"
        stderr_console().print(f"note: flag {key} has no environment '{env}' (it has: {known}); "
                               "it is off there", markup=False)
    results = [(k, evaluate(flag, EvaluationContext(k, attributes), env, flags=others))
               for k in keys]
    if fmt is OutputFormat.JSON:
        emit(json.dumps({"flag": key, "environment": env,
                         "results": [_result_json(k, r) for k, r in results]}), None)
    else:
        _results_table(key, env, results)
    if any(result.is_error for _, result in results):
        raise typer.Exit(ExitCode.PENDING)


def _read_keys(path: Path | None) -> list[str]:
    if path is None:
        return []
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    keys = [line.strip() for line in text.splitlines()]
    return [k for k in keys if k and not k.startswith("#")]


def _result_json(key: str, result: Evaluation) -> dict[str, Any]:
    return {
        "key": key,
        "variant": result.variant,
        "value": result.value,
        "reason": result.reason.value,
        "rule_id": result.rule_id,
        "error_code": result.error_code.value if result.error_code else None,
    }


def _results_table(flag: str, env: str, results: list[tuple[str, Evaluation]]) -> None:
    console = stdout_console()
    table = Table(title=f"flag {flag} in {env}")
    for column in ("key", "variant", "value", "reason", "rule / error"):
        table.add_column(column)
    for key, result in results[:_SHOWN_RESULTS]:
        detail = result.rule_id or result.error_message or (
            f"prerequisite {result.prerequisite}" if result.prerequisite else "")
        table.add_row(key, result.variant or "-", json.dumps(result.value), result.reason.value,
                      detail)
    console.print(table)
    if len(results) > _SHOWN_RESULTS:
        console.print(f"... {len(results) - _SHOWN_RESULTS} more keys (use --format json for "
                      "all of them)", markup=False)
    counts = Counter(result.variant or "(error)" for _, result in results)
    summary = ", ".join(f"{variant} {count} ({format_percent(count / len(results), 1)})"
                        for variant, count in counts.most_common())
    console.print(f"{len(results)} key(s): {summary}", markup=False)
