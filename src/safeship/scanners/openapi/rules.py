"""The rule catalogue: every change safeship reports, with its stable id and level.

The ids and levels are oasdiff's (checker/rules.go at commit 001f320; the parameter
serialization ids come from its checker/check_request_parameter_serialization_updated.go), so a
finding can be looked up, ignored or compared in either tool. Two ids are safeship's own and
say so in :attr:`Rule.origin`: ``request-parameter-location-changed`` (oasdiff reports a moved
parameter as one removed and one added) and ``api-security-became-required`` (oasdiff rates any
added security requirement INFO, even on an operation that needed no credentials before).

Levels: ERR breaks existing clients; WARN may break them; INFO does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from safeship.scanners.openapi.levels import Level

SAFESHIP_RULES = frozenset({
    "request-parameter-location-changed", "api-security-became-required",
})

# id level, one per line: the catalogue as data, easy to compare with oasdiff's.
_TABLE = """\
api-path-removed-without-deprecation ERR
api-path-removed-with-deprecation INFO
api-path-sunset-parse ERR
api-path-removed-before-sunset ERR
api-removed-without-deprecation ERR
api-removed-with-deprecation INFO
api-removed-before-sunset ERR
endpoint-added INFO
endpoint-deprecated INFO
endpoint-deprecated-with-sunset INFO
endpoint-reactivated INFO
api-deprecated-sunset-parse ERR
api-deprecated-sunset-missing ERR
api-sunset-date-too-small ERR
sunset-deleted ERR
api-sunset-date-changed-too-small ERR
api-stability-decreased ERR
api-stability-increased INFO
api-invalid-stability-level ERR
api-operation-id-removed INFO
api-operation-id-added INFO
api-tag-removed INFO
api-tag-added INFO
webhook-added INFO
webhook-removed ERR
api-schema-removed INFO
api-security-component-added INFO
api-security-component-removed INFO
api-security-component-type-changed INFO
api-security-component-oauth-scope-added INFO
api-security-component-oauth-scope-removed INFO
api-security-removed ERR
api-security-added INFO
api-security-scope-added ERR
api-security-scope-removed INFO
api-global-security-removed ERR
api-global-security-added INFO
api-global-security-scope-added ERR
api-global-security-scope-removed INFO
api-security-became-required ERR
new-required-request-parameter ERR
new-optional-request-parameter INFO
new-required-request-default-parameter-to-existing-path ERR
new-optional-request-default-parameter-to-existing-path INFO
request-parameter-removed WARN
request-parameter-removed-with-deprecation INFO
request-parameter-removed-before-sunset ERR
request-parameter-sunset-parse ERR
request-parameter-became-required ERR
request-parameter-became-optional INFO
request-parameter-deprecated INFO
request-parameter-reactivated INFO
request-parameter-deprecated-sunset-missing ERR
request-parameter-sunset-date-too-small ERR
request-parameter-sunset-deleted ERR
request-parameter-sunset-date-changed-too-small ERR
request-parameter-style-changed ERR
request-parameter-explode-changed ERR
request-parameter-became-allow-reserved INFO
request-parameter-became-not-allow-reserved ERR
request-parameter-location-changed ERR
request-body-added-required ERR
request-body-added-optional INFO
request-body-removed ERR
request-body-became-required ERR
request-body-became-optional INFO
request-body-media-type-added INFO
request-body-media-type-removed ERR
request-body-media-type-schema-added ERR
request-body-media-type-schema-removed INFO
response-success-status-removed ERR
response-non-success-status-removed INFO
response-success-status-added INFO
response-non-success-status-added INFO
response-media-type-removed ERR
response-media-type-added INFO
response-media-type-name-changed INFO
response-media-type-name-generalized ERR
response-media-type-name-specialized INFO
response-body-media-type-schema-removed ERR
response-body-media-type-schema-added INFO
required-response-header-removed ERR
optional-response-header-removed WARN
response-header-added INFO
response-header-became-optional ERR
response-header-type-changed ERR
response-header-type-generalized ERR
response-header-type-specialized INFO
response-header-became-nullable ERR
response-header-became-not-nullable INFO
request-body-type-changed ERR
request-body-type-generalized INFO
request-body-list-of-types-widened INFO
request-body-list-of-types-narrowed ERR
request-body-became-nullable INFO
request-body-became-not-nullable ERR
request-property-type-changed ERR
request-property-type-generalized INFO
request-property-list-of-types-widened INFO
request-property-list-of-types-narrowed ERR
request-property-became-nullable INFO
request-property-became-not-nullable ERR
request-parameter-type-changed ERR
request-parameter-type-generalized INFO
request-parameter-list-of-types-widened INFO
request-parameter-list-of-types-narrowed ERR
request-parameter-became-nullable INFO
request-parameter-became-not-nullable ERR
request-parameter-property-type-changed WARN
request-parameter-property-type-generalized INFO
request-parameter-property-list-of-types-widened INFO
request-parameter-property-list-of-types-narrowed ERR
request-parameter-property-became-nullable INFO
request-parameter-property-became-not-nullable ERR
request-parameter-property-type-specialized ERR
response-body-type-changed ERR
response-body-type-generalized ERR
response-body-type-specialized INFO
response-body-list-of-types-widened ERR
response-body-list-of-types-narrowed INFO
response-body-became-nullable ERR
response-body-became-not-nullable INFO
response-property-type-changed ERR
response-property-type-generalized ERR
response-property-type-specialized INFO
response-property-list-of-types-widened ERR
response-property-list-of-types-narrowed INFO
response-property-became-nullable ERR
response-property-became-not-nullable INFO
request-body-became-enum ERR
request-property-became-enum ERR
request-parameter-became-enum ERR
request-header-property-became-enum ERR
request-body-enum-value-removed ERR
request-property-enum-value-removed ERR
request-parameter-enum-value-removed ERR
request-parameter-property-enum-value-removed ERR
request-read-only-property-enum-value-removed INFO
response-property-enum-value-removed INFO
response-mediatype-enum-value-removed INFO
request-property-enum-value-added INFO
request-parameter-enum-value-added INFO
request-parameter-property-enum-value-added INFO
response-property-enum-value-added WARN
response-write-only-property-enum-value-added INFO
request-property-x-extensible-enum-value-removed ERR
request-parameter-x-extensible-enum-value-removed ERR
request-body-const-added ERR
request-body-const-removed INFO
request-body-const-changed ERR
response-body-const-added INFO
response-body-const-removed ERR
response-body-const-changed ERR
request-property-const-added ERR
request-property-const-removed INFO
request-property-const-changed ERR
response-property-const-added INFO
response-property-const-removed ERR
response-property-const-changed ERR
request-body-default-value-added INFO
request-body-default-value-removed INFO
request-body-default-value-changed INFO
request-property-default-value-added INFO
request-property-default-value-removed INFO
request-property-default-value-changed INFO
request-parameter-default-value-added INFO
request-parameter-default-value-removed INFO
request-parameter-default-value-changed INFO
response-body-default-value-added INFO
response-body-default-value-removed INFO
response-body-default-value-changed INFO
response-property-default-value-added INFO
response-property-default-value-removed INFO
response-property-default-value-changed INFO
request-body-max-decreased ERR
request-property-max-decreased ERR
request-parameter-max-decreased ERR
request-body-max-set ERR
request-property-max-set ERR
request-parameter-max-set ERR
request-body-max-increased INFO
request-property-max-increased INFO
request-parameter-max-increased INFO
request-read-only-property-max-decreased INFO
response-body-max-increased ERR
response-property-max-increased ERR
request-body-exclusive-max-decreased ERR
request-property-exclusive-max-decreased ERR
request-parameter-exclusive-max-decreased ERR
request-body-exclusive-max-set ERR
request-property-exclusive-max-set ERR
request-parameter-exclusive-max-set ERR
request-body-exclusive-max-increased INFO
request-property-exclusive-max-increased INFO
request-parameter-exclusive-max-increased INFO
request-read-only-property-exclusive-max-decreased INFO
response-body-exclusive-max-increased ERR
response-property-exclusive-max-increased ERR
request-body-min-increased ERR
request-property-min-increased ERR
request-parameter-min-increased ERR
request-body-min-set ERR
request-property-min-set ERR
request-parameter-min-set ERR
request-body-min-decreased INFO
request-property-min-decreased INFO
request-parameter-min-decreased INFO
request-read-only-property-min-increased INFO
response-body-min-decreased ERR
response-property-min-decreased ERR
request-body-exclusive-min-increased ERR
request-property-exclusive-min-increased ERR
request-parameter-exclusive-min-increased ERR
request-body-exclusive-min-set ERR
request-property-exclusive-min-set ERR
request-parameter-exclusive-min-set ERR
request-body-exclusive-min-decreased INFO
request-property-exclusive-min-decreased INFO
request-parameter-exclusive-min-decreased INFO
request-read-only-property-exclusive-min-increased INFO
response-body-exclusive-min-decreased ERR
response-property-exclusive-min-decreased ERR
request-body-max-length-decreased ERR
request-property-max-length-decreased ERR
request-parameter-max-length-decreased ERR
request-body-max-length-set ERR
request-property-max-length-set ERR
request-parameter-max-length-set ERR
request-body-max-length-increased INFO
request-property-max-length-increased INFO
request-parameter-max-length-increased INFO
request-read-only-property-max-length-decreased INFO
response-body-max-length-increased ERR
response-property-max-length-increased ERR
response-body-max-length-unset ERR
response-property-max-length-unset ERR
request-body-min-length-increased ERR
request-property-min-length-increased ERR
request-parameter-min-length-increased ERR
request-body-min-length-decreased INFO
request-property-min-length-decreased INFO
request-parameter-min-length-decreased INFO
response-body-min-length-decreased ERR
response-property-min-length-decreased ERR
request-body-max-items-decreased ERR
request-property-max-items-decreased ERR
request-parameter-max-items-decreased ERR
request-body-max-items-set ERR
request-property-max-items-set ERR
request-body-max-items-increased INFO
request-property-max-items-increased INFO
request-parameter-max-items-increased INFO
request-read-only-property-max-items-decreased INFO
response-body-max-items-increased ERR
response-property-max-items-increased ERR
request-body-min-items-increased ERR
request-property-min-items-increased ERR
request-parameter-min-items-increased ERR
request-body-min-items-set ERR
request-property-min-items-set ERR
request-parameter-min-items-set ERR
request-parameter-min-items-decreased INFO
response-body-min-items-decreased ERR
response-property-min-items-decreased ERR
response-body-min-items-unset ERR
response-property-min-items-unset ERR
request-body-max-properties-decreased ERR
request-property-max-properties-decreased ERR
request-body-max-properties-set ERR
request-property-max-properties-set ERR
request-body-max-properties-increased INFO
request-property-max-properties-increased INFO
request-read-only-property-max-properties-decreased INFO
response-body-max-properties-increased ERR
response-property-max-properties-increased ERR
request-body-min-properties-increased ERR
request-property-min-properties-increased ERR
response-body-min-properties-decreased ERR
response-property-min-properties-decreased ERR
request-body-min-contains-increased ERR
request-property-min-contains-increased ERR
request-body-min-contains-decreased INFO
request-property-min-contains-decreased INFO
response-body-min-contains-decreased ERR
response-property-min-contains-decreased ERR
response-body-min-contains-increased INFO
response-property-min-contains-increased INFO
request-body-max-contains-decreased ERR
request-property-max-contains-decreased ERR
request-body-max-contains-increased INFO
request-property-max-contains-increased INFO
response-body-max-contains-increased ERR
response-property-max-contains-increased ERR
response-body-max-contains-decreased INFO
response-property-max-contains-decreased INFO
request-body-multiple-of-set ERR
request-body-multiple-of-unset INFO
request-body-multiple-of-changed ERR
request-body-multiple-of-generalized INFO
response-body-multiple-of-unset ERR
response-body-multiple-of-changed ERR
response-body-multiple-of-specialized INFO
request-body-unique-items-set ERR
request-body-unique-items-unset INFO
response-body-unique-items-unset ERR
request-property-multiple-of-set ERR
request-property-multiple-of-unset INFO
request-property-multiple-of-changed ERR
request-property-multiple-of-generalized INFO
response-property-multiple-of-unset ERR
response-property-multiple-of-changed ERR
response-property-multiple-of-specialized INFO
request-property-unique-items-set ERR
request-property-unique-items-unset INFO
response-property-unique-items-unset ERR
request-property-pattern-added ERR
request-property-pattern-removed INFO
request-property-pattern-changed WARN
request-property-pattern-generalized INFO
request-parameter-pattern-added ERR
request-parameter-pattern-removed INFO
request-parameter-pattern-changed WARN
request-parameter-pattern-generalized INFO
response-property-pattern-added INFO
response-property-pattern-changed WARN
response-property-pattern-removed ERR
new-required-request-property ERR
new-required-request-property-with-default ERR
new-optional-request-property INFO
request-property-removed WARN
request-property-became-required ERR
request-property-became-required-with-default ERR
request-property-became-optional INFO
new-required-request-header-property ERR
request-header-property-became-required ERR
response-required-property-removed ERR
response-optional-property-removed WARN
response-required-property-added INFO
response-optional-property-added INFO
response-property-became-optional ERR
response-property-became-required INFO
response-required-write-only-property-removed INFO
response-optional-write-only-property-removed INFO
response-required-write-only-property-added INFO
response-optional-write-only-property-added INFO
response-write-only-property-became-optional INFO
response-write-only-property-became-required INFO
request-required-property-became-read-only INFO
request-required-property-became-not-read-only INFO
request-required-property-became-write-only INFO
request-required-property-became-not-write-only INFO
request-optional-property-became-read-only INFO
request-optional-property-became-not-read-only INFO
request-optional-property-became-write-only INFO
request-optional-property-became-not-write-only INFO
request-property-deprecated INFO
request-property-deprecated-with-sunset INFO
request-property-deprecated-sunset-missing ERR
request-property-deprecated-sunset-invalid ERR
request-property-sunset-date-too-small ERR
request-property-reactivated INFO
request-property-stability-decreased ERR
request-property-stability-increased INFO
response-required-property-became-read-only INFO
response-required-property-became-not-read-only INFO
response-required-property-became-write-only INFO
response-required-property-became-not-write-only WARN
response-optional-property-became-read-only INFO
response-optional-property-became-not-read-only INFO
response-optional-property-became-write-only INFO
response-optional-property-became-not-write-only INFO
response-property-deprecated INFO
response-property-deprecated-with-sunset INFO
response-property-deprecated-sunset-missing ERR
response-property-deprecated-sunset-invalid ERR
response-property-sunset-date-too-small ERR
response-property-reactivated INFO
response-property-stability-decreased ERR
response-property-stability-increased INFO
request-body-all-of-added ERR
request-body-all-of-removed INFO
response-body-all-of-added INFO
response-body-all-of-removed ERR
request-body-all-of-added-annotation-only INFO
request-body-all-of-removed-annotation-only INFO
response-body-all-of-added-annotation-only INFO
response-body-all-of-removed-annotation-only INFO
request-body-any-of-added INFO
request-body-any-of-removed ERR
response-body-any-of-added ERR
response-body-any-of-removed INFO
request-body-one-of-added INFO
request-body-one-of-removed ERR
response-body-one-of-added ERR
response-body-one-of-removed INFO
request-body-prefix-items-added INFO
request-body-prefix-items-removed ERR
response-body-prefix-items-added ERR
response-body-prefix-items-removed INFO
request-body-discriminator-added INFO
request-body-discriminator-removed INFO
request-body-discriminator-property-name-changed INFO
request-body-discriminator-mapping-added INFO
request-body-discriminator-mapping-deleted INFO
request-body-discriminator-mapping-changed INFO
response-body-discriminator-added INFO
response-body-discriminator-removed INFO
response-body-discriminator-property-name-changed INFO
response-body-discriminator-mapping-added INFO
response-body-discriminator-mapping-deleted INFO
response-body-discriminator-mapping-changed INFO
request-body-if-added ERR
request-body-if-removed INFO
response-body-if-added INFO
response-body-if-removed ERR
request-body-then-added ERR
request-body-then-removed INFO
response-body-then-added INFO
response-body-then-removed ERR
request-body-else-added ERR
request-body-else-removed INFO
response-body-else-added INFO
response-body-else-removed ERR
request-body-contains-added ERR
request-body-contains-removed INFO
response-body-contains-added INFO
response-body-contains-removed ERR
request-body-dependent-schema-added ERR
request-body-dependent-schema-removed INFO
response-body-dependent-schema-added INFO
response-body-dependent-schema-removed ERR
request-body-pattern-property-added ERR
request-body-pattern-property-removed INFO
response-body-pattern-property-added INFO
response-body-pattern-property-removed ERR
request-body-property-names-added ERR
request-body-property-names-removed INFO
response-body-property-names-added INFO
response-body-property-names-removed ERR
request-body-unevaluated-items-added ERR
request-body-unevaluated-items-removed INFO
response-body-unevaluated-items-added INFO
response-body-unevaluated-items-removed ERR
request-body-unevaluated-properties-added ERR
request-body-unevaluated-properties-removed INFO
response-body-unevaluated-properties-added INFO
response-body-unevaluated-properties-removed ERR
request-body-content-schema-added ERR
request-body-content-schema-removed INFO
response-body-content-schema-added INFO
response-body-content-schema-removed ERR
request-body-dependent-required-added ERR
request-body-dependent-required-removed INFO
response-body-dependent-required-added INFO
response-body-dependent-required-removed ERR
request-body-dependent-required-changed ERR
response-body-dependent-required-changed ERR
request-body-content-media-type-changed ERR
request-body-content-encoding-changed ERR
response-body-content-media-type-changed ERR
response-body-content-encoding-changed ERR
request-property-all-of-added ERR
request-property-all-of-removed INFO
response-property-all-of-added INFO
response-property-all-of-removed ERR
request-property-all-of-added-annotation-only INFO
request-property-all-of-removed-annotation-only INFO
response-property-all-of-added-annotation-only INFO
response-property-all-of-removed-annotation-only INFO
request-property-any-of-added INFO
request-property-any-of-removed ERR
response-property-any-of-added ERR
response-property-any-of-removed INFO
request-property-one-of-added INFO
request-property-one-of-removed ERR
response-property-one-of-added ERR
response-property-one-of-removed INFO
request-property-prefix-items-added INFO
request-property-prefix-items-removed ERR
response-property-prefix-items-added ERR
response-property-prefix-items-removed INFO
request-property-discriminator-added INFO
request-property-discriminator-removed INFO
request-property-discriminator-property-name-changed INFO
request-property-discriminator-mapping-added INFO
request-property-discriminator-mapping-deleted INFO
request-property-discriminator-mapping-changed INFO
response-property-discriminator-added INFO
response-property-discriminator-removed INFO
response-property-discriminator-property-name-changed INFO
response-property-discriminator-mapping-added INFO
response-property-discriminator-mapping-deleted INFO
response-property-discriminator-mapping-changed INFO
request-property-if-added ERR
request-property-if-removed INFO
response-property-if-added INFO
response-property-if-removed ERR
request-property-then-added ERR
request-property-then-removed INFO
response-property-then-added INFO
response-property-then-removed ERR
request-property-else-added ERR
request-property-else-removed INFO
response-property-else-added INFO
response-property-else-removed ERR
request-property-contains-added ERR
request-property-contains-removed INFO
response-property-contains-added INFO
response-property-contains-removed ERR
request-property-dependent-schema-added ERR
request-property-dependent-schema-removed INFO
response-property-dependent-schema-added INFO
response-property-dependent-schema-removed ERR
request-property-pattern-property-added ERR
request-property-pattern-property-removed INFO
response-property-pattern-property-added INFO
response-property-pattern-property-removed ERR
request-property-property-names-added ERR
request-property-property-names-removed INFO
response-property-property-names-added INFO
response-property-property-names-removed ERR
request-property-unevaluated-items-added ERR
request-property-unevaluated-items-removed INFO
response-property-unevaluated-items-added INFO
response-property-unevaluated-items-removed ERR
request-property-unevaluated-properties-added ERR
request-property-unevaluated-properties-removed INFO
response-property-unevaluated-properties-added INFO
response-property-unevaluated-properties-removed ERR
request-property-content-schema-added ERR
request-property-content-schema-removed INFO
response-property-content-schema-added INFO
response-property-content-schema-removed ERR
request-property-dependent-required-added ERR
request-property-dependent-required-removed INFO
response-property-dependent-required-added INFO
response-property-dependent-required-removed ERR
request-property-dependent-required-changed ERR
response-property-dependent-required-changed ERR
request-property-content-media-type-changed ERR
request-property-content-encoding-changed ERR
response-property-content-media-type-changed ERR
response-property-content-encoding-changed ERR
request-body-wrapped-in-one-of ERR
response-body-wrapped-in-one-of ERR
"""


@dataclass(frozen=True)
class Rule:
    """One kind of change: its id, its level and what it means."""

    id: str
    level: Level
    description: str
    origin: str
    """``oasdiff`` for ids shared with oasdiff, ``safeship`` for safeship's own."""


_DESCRIPTIONS = {
    "api-path-removed-without-deprecation":
        "a path was removed without being deprecated first",
    "api-path-removed-with-deprecation":
        "a deprecated path was removed after its sunset date (or it had none)",
    "api-path-sunset-parse": "a removed path had an x-sunset that is not a date",
    "api-path-removed-before-sunset": "a deprecated path was removed before its sunset date",
    "api-removed-without-deprecation":
        "an operation was removed without being deprecated first",
    "api-removed-with-deprecation":
        "a deprecated operation was removed after its sunset date (or it had none)",
    "api-removed-before-sunset": "a deprecated operation was removed before its sunset date",
    "endpoint-added": "an operation was added",
    "endpoint-deprecated": "an operation was deprecated",
    "endpoint-deprecated-with-sunset": "an operation was deprecated with a sunset date",
    "endpoint-reactivated": "an operation is no longer deprecated",
    "api-deprecated-sunset-parse":
        "an operation was deprecated with an x-sunset that is not a date",
    "api-deprecated-sunset-missing":
        "an operation was deprecated without a sunset date while a deprecation period is required",
    "api-sunset-date-too-small":
        "an operation was deprecated with a sunset date sooner than the deprecation period",
    "sunset-deleted": "a deprecated operation lost its sunset date",
    "api-sunset-date-changed-too-small": "a deprecated operation's sunset date was moved earlier",
    "api-stability-decreased": "an operation's x-stability-level was lowered",
    "api-stability-increased": "an operation's x-stability-level was raised",
    "api-invalid-stability-level": "an operation's x-stability-level is not draft, alpha, beta "
                                   "or stable",
    "api-operation-id-removed": "an operation's operationId was removed or changed",
    "api-operation-id-added": "an operation got an operationId",
    "api-tag-removed": "a tag was removed from an operation",
    "api-tag-added": "a tag was added to an operation",
    "webhook-added": "a webhook was added",
    "webhook-removed": "a webhook was removed",
    "api-schema-removed": "a schema was removed from components/schemas",
    "api-security-component-added": "a security scheme was added to components",
    "api-security-component-removed": "a security scheme was removed from components",
    "api-security-component-type-changed": "a security scheme's type changed",
    "api-security-component-oauth-scope-added": "an OAuth flow gained a scope",
    "api-security-component-oauth-scope-removed": "an OAuth flow lost a scope",
    "api-security-removed": "an operation lost one of its security requirements (a way to "
                            "authenticate its clients may use)",
    "api-security-added": "an operation gained another security requirement (one more way "
                          "to authenticate)",
    "api-security-scope-added": "an operation's security requirement needs another scope",
    "api-security-scope-removed": "an operation's security requirement needs one scope fewer",
    "api-global-security-removed": "the API lost one of its global security requirements",
    "api-global-security-added": "the API gained a global security requirement",
    "api-global-security-scope-added": "a global security requirement needs another scope",
    "api-global-security-scope-removed": "a global security requirement needs one scope fewer",
    "api-security-became-required": "an operation that accepted anonymous requests now "
                                    "requires credentials",
    "new-required-request-parameter": "a required parameter was added to an operation",
    "new-optional-request-parameter": "an optional parameter was added to an operation",
    "new-required-request-default-parameter-to-existing-path":
        "a required parameter was added to every operation of an existing path",
    "new-optional-request-default-parameter-to-existing-path":
        "an optional parameter was added to every operation of an existing path",
    "request-parameter-removed": "a parameter was removed (clients that send it may be refused)",
    "request-parameter-removed-with-deprecation":
        "a deprecated parameter was removed after its sunset date (or it had none)",
    "request-parameter-removed-before-sunset":
        "a deprecated parameter was removed before its sunset date",
    "request-parameter-sunset-parse": "a deprecated parameter has an x-sunset that is not a date",
    "request-parameter-became-required": "an optional parameter became required",
    "request-parameter-became-optional": "a required parameter became optional",
    "request-parameter-deprecated": "a parameter was deprecated",
    "request-parameter-reactivated": "a parameter is no longer deprecated",
    "request-parameter-deprecated-sunset-missing":
        "a parameter was deprecated without a sunset date while a deprecation period is required",
    "request-parameter-sunset-date-too-small":
        "a parameter was deprecated with a sunset date sooner than the deprecation period",
    "request-parameter-sunset-deleted": "a deprecated parameter lost its sunset date",
    "request-parameter-sunset-date-changed-too-small":
        "a deprecated parameter's sunset date was moved earlier",
    "request-parameter-style-changed": "a parameter's serialization style changed",
    "request-parameter-explode-changed": "a parameter's explode setting changed",
    "request-parameter-became-allow-reserved":
        "a query parameter now accepts reserved characters unencoded",
    "request-parameter-became-not-allow-reserved":
        "a query parameter no longer accepts reserved characters unencoded",
    "request-parameter-location-changed":
        "a parameter moved to another location (for example from query to header)",
    "request-body-added-required": "a required request body was added",
    "request-body-added-optional": "an optional request body was added",
    "request-body-removed": "the request body was removed",
    "request-body-became-required": "the request body became required",
    "request-body-became-optional": "the request body became optional",
    "request-body-media-type-added": "the request body accepts another media type",
    "request-body-media-type-removed": "the request body no longer accepts a media type",
    "request-body-media-type-schema-added": "a request media type that had no schema got one",
    "request-body-media-type-schema-removed": "a request media type lost its schema",
    "response-success-status-removed": "a success (2xx) response status was removed",
    "response-non-success-status-removed": "a non-success response status was removed",
    "response-success-status-added": "a success response status was added",
    "response-non-success-status-added": "a non-success response status was added",
    "response-media-type-removed": "a response no longer has a media type",
    "response-media-type-added": "a response has another media type",
    "response-media-type-name-changed": "a response media type's parameters changed",
    "response-media-type-name-generalized":
        "a response media type was replaced by a more general one (a wildcard)",
    "response-media-type-name-specialized":
        "a wildcard response media type was replaced by a more specific one",
    "response-body-media-type-schema-removed": "a response media type lost its schema",
    "response-body-media-type-schema-added": "a response media type that had no schema got one",
    "required-response-header-removed": "a required response header was removed",
    "optional-response-header-removed": "an optional response header was removed",
    "response-header-added": "a response header was added",
    "response-header-became-optional": "a required response header became optional",
    "new-required-request-property": "a required property was added to a request body",
    "new-required-request-property-with-default":
        "a required property with a default was added to a request body (the default does not "
        "make omitting it valid)",
    "new-optional-request-property": "an optional property was added to a request body",
    "request-property-removed": "a request property was removed (clients that send it may be "
                                "refused)",
    "request-property-became-required": "an optional request property became required",
    "request-property-became-required-with-default":
        "an optional request property with a default became required",
    "request-property-became-optional": "a required request property became optional",
    "new-required-request-header-property": "a required property was added to the object "
                                            "schema of a request header",
    "request-header-property-became-required":
        "a property of a request header's object schema became required",
    "response-required-property-removed": "a required response property was removed",
    "response-optional-property-removed": "an optional response property was removed",
    "response-required-property-added": "a required response property was added",
    "response-optional-property-added": "an optional response property was added",
    "response-property-became-optional": "a required response property became optional",
    "response-property-became-required": "an optional response property became required",
    "request-body-wrapped-in-one-of":
        "the request body was restructured into a oneOf that does not keep the old schema",
    "response-body-wrapped-in-one-of":
        "the response body was restructured into a oneOf that does not keep the old schema",
    "response-mediatype-enum-value-removed": "the response body's enum lost a value",
    "response-required-write-only-property-added": "a required write-only property was added "
                                                   "(it is never in responses)",
    "response-optional-write-only-property-added": "an optional write-only property was added "
                                                   "(it is never in responses)",
    "response-required-write-only-property-removed": "a required write-only property was "
                                                     "removed (it was never in responses)",
    "response-optional-write-only-property-removed": "an optional write-only property was "
                                                     "removed (it was never in responses)",
}

_SUBJECTS = (
    ("request-parameter-property-", "request parameter property: "),
    ("request-read-only-property-", "read-only request property: "),
    ("response-write-only-property-", "write-only response property: "),
    ("request-header-property-", "request header property: "),
    ("request-required-property-", "required request property: "),
    ("request-optional-property-", "optional request property: "),
    ("response-required-property-", "required response property: "),
    ("response-optional-property-", "optional response property: "),
    ("request-parameter-", "request parameter: "),
    ("request-property-", "request property: "),
    ("request-body-", "request body: "),
    ("response-property-", "response property: "),
    ("response-body-", "response body: "),
    ("response-header-", "response header: "),
)
_KEYWORDS = (
    ("exclusive-max", "exclusiveMaximum"), ("exclusive-min", "exclusiveMinimum"),
    ("max-length", "maxLength"), ("min-length", "minLength"), ("max-items", "maxItems"),
    ("min-items", "minItems"), ("max-properties", "maxProperties"),
    ("min-properties", "minProperties"), ("min-contains", "minContains"),
    ("max-contains", "maxContains"), ("multiple-of", "multipleOf"),
    ("unique-items", "uniqueItems"), ("all-of", "allOf"), ("any-of", "anyOf"),
    ("one-of", "oneOf"), ("prefix-items", "prefixItems"), ("property-names", "propertyNames"),
    ("unevaluated-items", "unevaluatedItems"),
    ("unevaluated-properties", "unevaluatedProperties"),
    ("dependent-required", "dependentRequired"), ("dependent-schema", "dependentSchemas entry"),
    ("pattern-property", "patternProperties entry"), ("content-schema", "contentSchema"),
    ("content-media-type", "contentMediaType"), ("content-encoding", "contentEncoding"),
    ("list-of-types", "list of types"), ("x-extensible-enum", "x-extensible-enum"),
    ("default-value", "default value"), ("property-name", "propertyName"),
    ("if", "if"), ("then", "then"), ("else", "else"), ("max", "maximum"), ("min", "minimum"),
)
_ACTIONS = {"set": "was set", "unset": "was removed", "added": "added", "removed": "removed",
            "deleted": "removed", "changed": "changed", "increased": "increased",
            "decreased": "decreased", "generalized": "widened", "specialized": "narrowed"}


def _describe(rule_id: str) -> str:
    if rule_id in _DESCRIPTIONS:
        return _DESCRIPTIONS[rule_id]
    subject, rest = "", rule_id
    for prefix, text in _SUBJECTS:
        if rule_id.startswith(prefix):
            subject, rest = text, rule_id[len(prefix):]
            break
    words = rest
    for token, keyword in _KEYWORDS:
        if words == token or words.startswith(token + "-"):
            words = keyword + words[len(token):]
            break
    head, _, last = words.rpartition("-")
    if head and last in _ACTIONS:
        words = f"{head} {_ACTIONS[last]}"
    return subject + words.replace("-", " ").replace("read only", "read-only").replace(
        "write only", "write-only")


def _build() -> Mapping[str, Rule]:
    rules: dict[str, Rule] = {}
    for line in _TABLE.splitlines():
        rule_id, level = line.split()
        origin = "safeship" if rule_id in SAFESHIP_RULES else "oasdiff"
        rules[rule_id] = Rule(rule_id, Level(level), _describe(rule_id), origin)
    return MappingProxyType(rules)


RULES: Mapping[str, Rule] = _build()
"""Every rule, by id."""


def level_of(rule_id: str) -> Level:
    """The level of ``rule_id``; KeyError for an id that is not in the catalogue."""
    return RULES[rule_id].level
