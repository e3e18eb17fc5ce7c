"""SARIF 2.1.0 output that code-scanning services accept (validated in tests against the OASIS schema).

One run, tool `lore`, one reporting descriptor per rule that fired; each result is located in the
working-tree file (columns in UTF-16 code units, as `columnKind` says), names the base location and the
consumers as related locations, carries a stable partial fingerprint (rule + entity) so re-runs match,
and records lore:ignore / lore.toml acceptances as `suppressions`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from indexers.model import Location
from lore import version as lore_version
from lore.check.findings import ERROR, NOTE, Finding

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

DESCRIPTIONS: dict[str, str] = {
    "PACKAGE_NO_DELETE": "A protobuf package was deleted or renamed.",
    "MESSAGE_NO_DELETE": "A protobuf message was deleted.",
    "ENUM_NO_DELETE": "A protobuf enum was deleted.",
    "SERVICE_NO_DELETE": "A protobuf service was deleted.",
    "RPC_NO_DELETE": "A protobuf rpc was deleted.",
    "COPY_DRIFT": "A copy of a contract now differs from its canonical declaration (update or remove the copy).",
    "FIELD_NO_DELETE": "A protobuf field was deleted without reserving its number and name.",
    "FIELD_SAME_TYPE": "A protobuf field changed to a wire- or JSON-incompatible type.",
    "FIELD_SAME_NAME": "A protobuf field changed its name (JSON and text formats use it).",
    "FIELD_SAME_JSON_NAME": "A protobuf field changed its JSON name.",
    "FIELD_SAME_CARDINALITY": "A protobuf field changed between singular, repeated and required.",
    "FIELD_SAME_ONEOF": "A protobuf field moved into, out of or between oneofs.",
    "ENUM_VALUE_NO_DELETE": "A protobuf enum value was deleted without reserving its number and name.",
    "ENUM_VALUE_SAME_NAME": "A protobuf enum number changed its name.",
    "RESERVED_MESSAGE_NO_DELETE": "A reserved number or name of a protobuf message was removed.",
    "RESERVED_ENUM_NO_DELETE": "A reserved number or name of a protobuf enum was removed.",
    "RPC_SAME_REQUEST_TYPE": "A protobuf rpc changed its request type.",
    "RPC_SAME_RESPONSE_TYPE": "A protobuf rpc changed its response type.",
    "RPC_SAME_CLIENT_STREAMING": "A protobuf rpc changed client streaming.",
    "RPC_SAME_SERVER_STREAMING": "A protobuf rpc changed server streaming.",
    "api-removed-without-deprecation": "An API operation was removed without being deprecated first.",
    "new-required-request-parameter": "A new required request parameter was added.",
    "request-parameter-became-required": "A request parameter became required.",
    "request-parameter-type-changed": "A request parameter's type changed or narrowed.",
    "request-parameter-enum-value-removed": "An enum value of a request parameter was removed.",
    "new-required-request-body": "A required request body was added.",
    "request-body-became-required": "The request body became required.",
    "request-body-media-type-removed": "A request media type was removed.",
    "request-body-type-changed": "The request body's type changed.",
    "new-required-request-property": "A new required request property was added.",
    "request-property-became-required": "A request property became required.",
    "request-property-became-not-nullable": "A request property is no longer nullable.",
    "request-property-type-changed": "A request property's type changed or narrowed.",
    "request-property-enum-value-removed": "An enum value of a request property was removed.",
    "response-success-status-removed": "A success response status was removed.",
    "response-media-type-removed": "A response media type was removed.",
    "response-body-type-changed": "A response body's type changed.",
    "response-required-property-removed": "A required response property was removed.",
    "response-property-became-optional": "A response property became optional.",
    "response-property-became-nullable": "A response property became nullable.",
    "response-property-type-changed": "A response property's type changed.",
    "response-required-header-removed": "A required response header was removed.",
    "TYPE_REMOVED": "A GraphQL type was removed.",
    "TYPE_KIND_CHANGED": "A GraphQL type changed kind.",
    "FIELD_REMOVED": "A GraphQL field was removed.",
    "ENUM_VALUE_REMOVED": "A GraphQL enum value was removed.",
    "UNION_MEMBER_REMOVED": "A member was removed from a GraphQL union.",
    "FIELD_TYPE_CHANGED": "A GraphQL field's type changed incompatibly.",
    "ARGUMENT_REMOVED": "A GraphQL argument was removed.",
    "ARGUMENT_TYPE_CHANGED": "A GraphQL argument's type changed incompatibly.",
    "REQUIRED_ARGUMENT_ADDED": "A required GraphQL argument was added.",
    "REQUIRED_INPUT_FIELD_ADDED": "A required GraphQL input field was added.",
    "SQL_TABLE_DROPPED": "A table was dropped.",
    "SQL_TABLE_RENAMED": "A table was renamed.",
    "SQL_COLUMN_DROPPED": "A column was dropped.",
    "SQL_COLUMN_RENAMED": "A column was renamed.",
    "SQL_COLUMN_TYPE_NARROWED": "A column's type was narrowed.",
    "SQL_COLUMN_TYPE_CHANGED": "A column's type changed.",
    "SQL_NOT_NULL_ADDED": "A column became NOT NULL without a default.",
    "SQL_NOT_NULL_COLUMN_ADDED": "A NOT NULL column without a default was added to an existing table.",
    "OPS_METRIC_REMOVED": "A metric that an alert, recording rule, SLO or dashboard reads was removed or renamed.",
    "OPS_METRIC_LABEL_REMOVED": "A label that an alert, recording rule, SLO or dashboard uses was dropped from its metric.",
    "OPS_SPAN_REMOVED": "A span that an alert, SLO or dashboard reads (spanmetrics span_name) was removed or renamed.",
    "OPS_FLAG_REMOVED": "A feature flag definition was removed while code still evaluates the flag.",
}


def _version() -> str:
    return lore_version() or "0"  # "0": running from a source tree


def _physical(loc: Location, prefixes: Mapping[str, str]) -> dict[str, Any]:
    r = loc.range
    region: dict[str, Any] = {"startLine": r.start_line + 1, "startColumn": r.start_col + 1}
    if (r.end_line, r.end_col) > (r.start_line, r.start_col):
        region.update(endLine=r.end_line + 1, endColumn=r.end_col + 1)
    prefix = prefixes.get(loc.repo, "").strip("/")
    art: dict[str, Any] = {"uri": quote(f"{prefix}/{loc.path}" if prefix else loc.path), "uriBaseId": "%SRCROOT%"}
    return {"artifactLocation": art, "region": region}


def to_sarif(findings: Sequence[Finding], prefixes: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A SARIF log. URIs are relative to %SRCROOT% (the checkout root); `prefixes` maps a repo to its folder
    under it ('' or absent when the repo is the checkout root)."""
    prefixes = prefixes or {}
    rule_ids = sorted({f.rule for f in findings})
    index = {r: i for i, r in enumerate(rule_ids)}
    rules = [{
        "id": r, "name": r.replace("-", "_"),
        "shortDescription": {"text": DESCRIPTIONS.get(r, r)},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["breaking-change", "operations" if r.startswith("OPS_") else "contracts"]},
    } for r in rule_ids]
    results = []
    for f in findings:
        related = []
        if f.old is not None:
            related.append({"id": 0, "message": {"text": f"at the base: {f.old.repo}/{f.old.path}:{f.old.range.start_line + 1}"},
                            "physicalLocation": _physical(f.old, prefixes)})
        for i, c in enumerate(f.consumers[:50], start=1):
            related.append({"id": i, "message": {"text": f"consumer {c.service or '(no service)'} in {c.repo}/{c.path}:{c.line + 1}"},
                            "physicalLocation": {"artifactLocation": {"uri": quote(f"{c.repo}/{c.path}")},
                                                 "region": {"startLine": c.line + 1}}})
        text = f.message
        if f.consumers:
            names = sorted({c.service or c.repo for c in f.consumers})
            text += f" — breaks {len(f.consumers)} known consumer(s): {', '.join(names[:10])}"
        fp = hashlib.sha256(f"{f.rule}\0{f.entity}".encode()).hexdigest()[:32]
        res: dict[str, Any] = {
            "ruleId": f.rule, "ruleIndex": index[f.rule],
            "level": "error" if f.severity == ERROR else ("note" if f.severity == NOTE else "warning"),
            "message": {"text": text},
            "locations": [{"physicalLocation": _physical(f.at, prefixes)}],
            "partialFingerprints": {"loreBreakingChange/v1": fp},
            "properties": {"entity": f.entity, "repo": f.at.repo, "consumers": len(f.consumers)},
        }
        if related:
            res["relatedLocations"] = related
        if f.suppressed:
            res["suppressions"] = [{"kind": "inSource" if f.suppressed_by == "inline" else "external",
                                    "justification": f.suppressed}]
        results.append(res)
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "lore", "version": _version(), "rules": rules}},
        "columnKind": "utf16CodeUnits",
        "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The checkout root."}}},
        "results": results,
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
