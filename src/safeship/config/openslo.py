"""Import OpenSLO v1 files as safeship SLO definitions.

What is read (https://github.com/OpenSLO/OpenSLO, ``apiVersion: openslo/v1``), from one or more
files, each holding one or more YAML documents:

* ``kind: SLO`` with its indicator inline (``spec.indicator``) or by name
  (``spec.indicatorRef``) to a ``kind: SLI`` document of the same set of files;
* the indicator's ``ratioMetric`` with ``good``/``total`` or ``bad``/``total``, each a
  ``metricSource`` of type Prometheus (given inline or through ``metricSourceRef`` to a
  ``kind: DataSource``) whose ``spec.query`` is a counter expression. Sloth-style queries
  ``sum(rate(x[{{.window}}]))`` are accepted too and turned into ``sum(x)``;
* ``objectives[]`` with ``target`` (0.999) or ``targetPercent`` (99.9): one safeship SLO per
  objective, named ``<slo>`` for a single objective and ``<slo>-<displayName or number>``
  otherwise;
* ``timeWindow[]``: exactly one rolling window (``duration`` in m, h, d or w); 30d if absent;
* ``spec.service`` (or the caller's default) and ``spec.description``.

Anything whose meaning safeship would have to guess is refused with a located error, never
skipped: ``thresholdMetric``, ``raw`` ratios, ``counter: false``, calendar-aligned windows,
month/quarter/year durations, the ``Timeslices`` budgeting method, objective ``op``/``value``,
non-Prometheus sources and unknown keys. ``alertPolicies`` are reported in a note: safeship
generates its own multiwindow, multi-burn-rate alerts. ``Service``, ``AlertPolicy``,
``AlertCondition`` and ``AlertNotificationTarget`` documents are accepted and not used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from safeship._internal.sli_counters import unwrap_window_template
from safeship.config.openslo_models import (
    EnvelopeModel,
    MetricModel,
    ObjectiveModel,
    SliDocumentModel,
    SliSpecModel,
    SloDocumentModel,
    SloSpecModel,
)
from safeship.config.slo_section import (
    DEFAULT_WINDOW_S,
    SLO_NAME_PATTERN,
    counter_expression,
    grouping_mismatch,
    objective_value,
    window_seconds,
)
from safeship.config.validation import validate_model
from safeship.config.yaml_source import PathKey, YamlDocument, format_path, parse_yaml
from safeship.errors import (
    ConfigError,
    ConfigProblem,
    ConfigSyntaxError,
    NotFound,
    SourceLocation,
)
from safeship.model.slo import RatioSli, SliKind, SloDefinition

API_VERSION = "openslo/v1"
KINDS = frozenset({"SLO", "SLI", "DataSource", "Service", "AlertPolicy", "AlertCondition",
                   "AlertNotificationTarget"})
_DOCUMENT_MARKER = re.compile(r"^(---|\.\.\.)(?=\s|$)")
_SHORTHAND = re.compile(r"^(\d+)([mhdwMQY])$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_QUERY_KEYS = frozenset({"query", "queryType"})
_HINT = "see docs/slo.md, section 'OpenSLO import', for what is supported"


@dataclass(frozen=True)
class OpenSloImport:
    """The SLO definitions read from OpenSLO files, and what the reader should know."""

    definitions: tuple[SloDefinition, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Located:
    """A document and the path of an object inside it."""

    doc: YamlDocument
    path: PathKey


def read_documents(path: Path) -> list[YamlDocument]:
    """Every non-empty YAML document of the file at ``path``, positions as in the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotFound(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigSyntaxError(
            [ConfigProblem(SourceLocation(str(path)), "", f"cannot read the file: {exc}")]
        ) from exc
    return split_documents(text, str(path))


def split_documents(text: str, source: str) -> list[YamlDocument]:
    """Parse a multi-document YAML text; line numbers stay those of the whole text.

    A line starting with ``---`` or ``...`` ends a document (YAML forbids both inside
    content); each document is parsed on its own, preceded by as many empty lines as came
    before it, so every position reported is the position in the file.
    """
    segments: list[tuple[int, list[str]]] = [(0, [])]
    for number, line in enumerate(text.splitlines(keepends=True)):
        marker = _DOCUMENT_MARKER.match(line)
        if marker:
            # Keep anything after "---" (e.g. "--- {a: 1}") at its column.
            segments.append((number, [" " * 3 + line[3:] if marker.group(1) == "---" else "\n"]))
        elif line.startswith("%"):
            segments[-1][1].append("\n")  # a directive (%YAML 1.2) only affects parsing
        else:
            segments[-1][1].append(line)
    documents = []
    for start, lines in segments:
        doc = parse_yaml("\n" * start + "".join(lines), source)
        if doc.data is not None:
            documents.append(doc)
    return documents


def import_openslo(paths: Sequence[Path], default_service: str | None = None) -> OpenSloImport:
    """The SLOs of the OpenSLO files at ``paths`` (references resolve across all of them).

    ``default_service`` names the service of SLOs without ``spec.service``. Raises
    :class:`ConfigError` listing every problem found, each at its file, line and column.
    """
    documents = [doc for path in paths for doc in read_documents(path)]
    return import_documents(documents, default_service)


def import_documents(documents: Sequence[YamlDocument],
                     default_service: str | None = None) -> OpenSloImport:
    """Like :func:`import_openslo`, for documents already parsed."""
    problems: list[ConfigProblem] = []
    notes: list[str] = []
    slis: dict[str, _Located] = {}
    sources: dict[str, _Located] = {}
    slos: list[YamlDocument] = []
    for doc in documents:
        envelope = _envelope(doc, problems)
        if envelope is None:
            continue
        name = envelope.metadata.name
        if envelope.kind == "SLO":
            slos.append(doc)
        elif envelope.kind == "SLI":
            _register(slis, name, doc, "SLI", problems)
        elif envelope.kind == "DataSource":
            _register(sources, name, doc, "DataSource", problems)
    if not slos and not problems:
        where = documents[0].source if documents else "the input"
        problems.append(ConfigProblem(SourceLocation(where), "",
                                      "no 'kind: SLO' document found"))
    context = _Context(slis, sources, default_service, problems, notes)
    definitions: list[SloDefinition] = []
    seen: dict[tuple[str, str], str] = {}
    for doc in slos:
        for definition in context.slo(doc):
            key = (definition.service, definition.name)
            if key in seen:
                problems.append(ConfigProblem(
                    _location_of(definition.source), "metadata.name",
                    f"the SLO '{definition.name}' of service '{definition.service}' is defined "
                    f"twice (first at {seen[key]})"))
                continue
            seen[key] = definition.source
            definitions.append(definition)
    if problems:
        raise ConfigError(problems, hint=_HINT)
    return OpenSloImport(tuple(definitions), tuple(notes))


def _envelope(doc: YamlDocument, problems: list[ConfigProblem]) -> EnvelopeModel | None:
    if not isinstance(doc.data, dict):
        problems.append(ConfigProblem(doc.locate(()), "", "expected an OpenSLO object (a "
                                      "mapping with apiVersion, kind, metadata and spec)"))
        return None
    try:
        envelope = validate_model(EnvelopeModel, doc, doc.data)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None
    if envelope.kind not in KINDS:
        problems.append(_problem(doc, ("kind",), (
            f"unknown OpenSLO kind '{envelope.kind}'; expected one of {', '.join(sorted(KINDS))}")))
        return None
    return envelope


def _register(table: dict[str, _Located], name: str, doc: YamlDocument, kind: str,
              problems: list[ConfigProblem]) -> None:
    if name in table:
        first = table[name].doc.locate(("metadata", "name"))
        problems.append(_problem(doc, ("metadata", "name"),
                                 f"another {kind} is already named '{name}' (at {first})"))
        return
    table[name] = _Located(doc, ())


class _Context:
    """Resolves references and collects problems while SLO documents are converted."""

    def __init__(self, slis: dict[str, _Located], sources: dict[str, _Located],
                 default_service: str | None, problems: list[ConfigProblem],
                 notes: list[str]) -> None:
        self.slis = slis
        self.sources = sources
        self.default_service = default_service
        self.problems = problems
        self.notes = notes
        # An SLI referenced by several SLOs is converted (and its problems reported) once.
        self.converted: dict[str, RatioSli | None] = {}

    def fail(self, doc: YamlDocument, path: PathKey, message: str, *, key: bool = False) -> None:
        """Record a problem at ``path`` of ``doc`` (at its key when the key is the problem)."""
        self.problems.append(_problem(doc, path, message, key=key))

    def slo(self, doc: YamlDocument) -> list[SloDefinition]:
        """The safeship SLOs of one ``kind: SLO`` document (one per objective)."""
        try:
            model = validate_model(SloDocumentModel, doc, doc.data)
        except ConfigError as exc:
            self.problems.extend(exc.problems)
            return []
        spec = model.spec
        count = len(self.problems)
        service = self._service(doc, spec)
        window_s = self._window(doc, spec)
        sli = self._indicator(doc, spec)
        if spec.budgetingMethod not in (None, "Occurrences"):
            self.fail(doc, ("spec", "budgetingMethod"), (
                f"budgetingMethod '{spec.budgetingMethod}' is not supported: safeship counts "
                "events (Occurrences)"))
        if spec.alertPolicies:
            self.notes.append(
                f"{doc.locate(('spec', 'alertPolicies'), key=True)}: spec.alertPolicies of "
                f"'{model.metadata.name}' are not imported: safeship generates the multiwindow, "
                "multi-burn-rate alerts itself (safeship slo rules)")
        targets = [self._objective(doc, index, objective)
                   for index, objective in enumerate(spec.objectives)]
        if len(self.problems) > count or service is None or window_s is None or sli is None:
            return []
        name = model.metadata.name
        description = spec.description or model.metadata.displayName or ""
        line = doc.locate(("metadata", "name")).line
        definitions = []
        for index, (objective, target) in enumerate(zip(spec.objectives, targets, strict=True)):
            assert target is not None  # noqa: S101 - a None target recorded a problem above
            full = name if len(spec.objectives) == 1 else (
                f"{name}-{_slug(objective.displayName) or index + 1}")
            if not re.match(SLO_NAME_PATTERN, full):
                self.fail(doc, ("metadata", "name"), (
                    f"'{full}' cannot be used as an SLO name: use letters, digits, '.', '_' "
                    "and '-'"))
                continue
            definitions.append(SloDefinition(
                name=full, service=service, objective=target, window_s=window_s, sli=sli,
                description=description, source=f"{doc.source}:{line}"))
        return definitions

    def _service(self, doc: YamlDocument, spec: SloSpecModel) -> str | None:
        service = spec.service or self.default_service
        if service is None:
            self.fail(doc, ("spec",), (
                "spec.service is missing: name the service the SLO belongs to (or give a "
                "default service, e.g. --service-name shop)"))
            return None
        if not re.match(SLO_NAME_PATTERN, service):
            self.fail(doc, ("spec", "service"), (
                f"'{service}' cannot be used as a service name: use letters, digits, '.', '_' "
                "and '-'"))
            return None
        return service

    def _window(self, doc: YamlDocument, spec: SloSpecModel) -> float | None:
        if not spec.timeWindow:
            return DEFAULT_WINDOW_S
        at: PathKey = ("spec", "timeWindow")
        if len(spec.timeWindow) > 1:
            self.fail(doc, (*at, 1), "timeWindow takes exactly one item")
            return None
        window = spec.timeWindow[0]
        if window.calendar is not None or window.isRolling is False:
            self.fail(doc, (*at, 0), (
                "calendar-aligned windows are not supported: safeship measures a rolling "
                "window (isRolling: true)"))
            return None
        match = _SHORTHAND.match(window.duration)
        if match is None:
            self.fail(doc, (*at, 0, "duration"), (
                f"'{window.duration}' is not an OpenSLO duration: a whole number and one of "
                "m, h, d, w (e.g. 28d, 4w)"))
            return None
        number, unit = int(match.group(1)), match.group(2)
        if unit not in _UNIT_SECONDS:
            self.fail(doc, (*at, 0, "duration"), (
                f"'{window.duration}': months, quarters and years vary in length; write the "
                "rolling window in days or weeks (e.g. 30d)"))
            return None
        try:
            return window_seconds(number * _UNIT_SECONDS[unit])
        except ValueError as exc:
            self.fail(doc, (*at, 0, "duration"), str(exc).replace(
                f"(got {number * _UNIT_SECONDS[unit]!r})", f"(got {window.duration!r})"))
            return None

    def _objective(self, doc: YamlDocument, index: int,
                   objective: ObjectiveModel) -> float | None:
        at: PathKey = ("spec", "objectives", index)
        for key in ("op", "value"):
            if getattr(objective, key) is not None:
                self.fail(doc, (*at, key), (
                    f"'{key}' belongs to threshold metrics, which are not supported: give a "
                    "ratioMetric and a target"), key=True)
                return None
        for key in ("timeSliceTarget", "timeSliceWindow"):
            if getattr(objective, key) is not None:
                self.fail(doc, (*at, key), (
                    f"'{key}' belongs to the Timeslices budgeting method, which is not "
                    "supported: safeship counts events"), key=True)
                return None
        if (objective.target is None) == (objective.targetPercent is None):
            self.fail(doc, at, "give exactly one of 'target' (0.999) and 'targetPercent' (99.9)")
            return None
        key, value = (("target", objective.target) if objective.target is not None
                      else ("targetPercent", f"{objective.targetPercent}%"))
        try:
            return objective_value(value)
        except ValueError as exc:
            self.fail(doc, (*at, key), str(exc))
            return None

    def _indicator(self, doc: YamlDocument, spec: SloSpecModel) -> RatioSli | None:
        if (spec.indicator is None) == (spec.indicatorRef is None):
            self.fail(doc, ("spec",), "give exactly one of 'indicator' and 'indicatorRef'")
            return None
        if spec.indicator is not None:
            return self._ratio(doc, ("spec", "indicator", "spec"), spec.indicator.spec)
        assert spec.indicatorRef is not None  # noqa: S101 - narrowed by the xor above
        found = self.slis.get(spec.indicatorRef)
        if found is None:
            known = ", ".join(sorted(self.slis)) or "none"
            self.fail(doc, ("spec", "indicatorRef"), (
                f"no 'kind: SLI' named '{spec.indicatorRef}' in the files given "
                f"(SLIs found: {known})"))
            return None
        if spec.indicatorRef not in self.converted:
            self.converted[spec.indicatorRef] = self._referenced(found.doc)
        return self.converted[spec.indicatorRef]

    def _referenced(self, doc: YamlDocument) -> RatioSli | None:
        try:
            sli = validate_model(SliDocumentModel, doc, doc.data)
        except ConfigError as exc:
            self.problems.extend(exc.problems)
            return None
        return self._ratio(doc, ("spec",), sli.spec)

    def _ratio(self, doc: YamlDocument, at: PathKey, spec: SliSpecModel) -> RatioSli | None:
        if spec.thresholdMetric is not None:
            self.fail(doc, (*at, "thresholdMetric"), (
                "thresholdMetric is not supported: safeship SLOs are event ratios "
                "(ratioMetric with good/total or bad/total)"), key=True)
            return None
        ratio = spec.ratioMetric
        if ratio is None:
            self.fail(doc, at, "the indicator needs a ratioMetric (good/total or bad/total)")
            return None
        at = (*at, "ratioMetric")
        if ratio.raw is not None or ratio.rawType is not None:
            self.fail(doc, (*at, "raw" if ratio.raw is not None else "rawType"), (
                "precomputed 'raw' ratios are not supported: give the good (or bad) and total "
                "event counters"), key=True)
            return None
        if ratio.counter is False:
            self.fail(doc, (*at, "counter"), (
                "counter: false (gauges) is not supported: safeship needs monotonically "
                "increasing counters"))
            return None
        if (ratio.good is None) == (ratio.bad is None):
            self.fail(doc, at, "give exactly one of 'good' and 'bad', with 'total'")
            return None
        if ratio.total is None:
            self.fail(doc, at, "'total' is missing")
            return None
        key, events_metric = (("good", ratio.good) if ratio.good is not None
                              else ("bad", ratio.bad))
        assert events_metric is not None  # noqa: S101 - narrowed by the xor above
        events = self._query(doc, (*at, key), events_metric)
        total = self._query(doc, (*at, "total"), ratio.total)
        if events is None or total is None:
            return None
        mismatch = grouping_mismatch(key, events, total)
        if mismatch:
            self.fail(doc, (*at, "total"), mismatch)
            return None
        kind = SliKind.GOOD_TOTAL if key == "good" else SliKind.BAD_TOTAL
        return RatioSli(kind, events, total)

    def _query(self, doc: YamlDocument, at: PathKey, metric: MetricModel) -> str | None:
        source = metric.metricSource
        at = (*at, "metricSource")
        kind = source.type
        if source.metricSourceRef is not None:
            found = self.sources.get(source.metricSourceRef)
            if found is None:
                self.fail(doc, (*at, "metricSourceRef"), (
                    f"no 'kind: DataSource' named '{source.metricSourceRef}' in the files given"))
                return None
            referenced = found.doc.data.get("spec", {}) if isinstance(found.doc.data, dict) else {}
            kind = kind or (referenced.get("type") if isinstance(referenced, dict) else None)
        if not isinstance(kind, str) or kind.lower() != "prometheus":
            self.fail(doc, (*at, "type"), (
                f"metric source type {kind!r} is not supported: safeship reads Prometheus "
                "(type: Prometheus)"))
            return None
        unknown = sorted(set(source.spec) - _QUERY_KEYS)
        if unknown:
            self.fail(doc, (*at, "spec", unknown[0]), (
                f"unknown key for a Prometheus source; expected {', '.join(sorted(_QUERY_KEYS))}"),
                key=True)
            return None
        query_type = source.spec.get("queryType", "promql")
        if not isinstance(query_type, str) or query_type.lower() != "promql":
            self.fail(doc, (*at, "spec", "queryType"), "only queryType: promql is supported")
            return None
        query = source.spec.get("query")
        if not isinstance(query, str) or not query.strip():
            self.fail(doc, (*at, "spec", "query"), "a PromQL query (a string) is required")
            return None
        try:
            return counter_expression(unwrap_window_template(query)).text
        except ValueError as exc:  # CounterExpressionError is one
            self.fail(doc, (*at, "spec", "query"), str(exc))
            return None


def _problem(doc: YamlDocument, path: PathKey, message: str, *,
             key: bool = False) -> ConfigProblem:
    return ConfigProblem(doc.locate(path, key=key), format_path(path), message)


def _location_of(source: str) -> SourceLocation:
    path, _, line = source.rpartition(":")
    return SourceLocation(path, int(line)) if line.isdigit() else SourceLocation(source)


def _slug(text: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", "-", (text or "").lower()).strip("-")
