"""Feature-flag evaluations in code: OpenFeature clients (every SDK's typed getters and details
variants), Unleash (`isEnabled`/`is_enabled`/`IsEnabled`, variants) and LaunchDarkly (`variation`,
typed variations), with the flag key as a literal or a constant of the file. Only files that import the
SDK are read. Facts: `ops.flag_eval` at the key (attrs: sdk, type, default when it is a literal).
"""

from __future__ import annotations

import re

from indexers.sources.ops.code.facts import OpsFacts, node_text, positional

_OPENFEATURE = re.compile(r"^(?:get_?|Get)?(boolean|Boolean|string|String|number|Number|integer|Integer|int|Int|float|Float|"
                          r"double|Double|object|Object)_?(?:Value|value|Details|details)(?:Async)?$")
_UNLEASH = re.compile(r"^(?:isEnabled|is_enabled|IsEnabled|getVariant|get_variant|GetVariant)$")
_LAUNCHDARKLY = re.compile(r"^(?:variation|variation_detail|variationDetail|(?:bool|string|int|float|double|json|number)"
                           r"Variation(?:Detail)?|(?:Bool|String|Int|Float64|JSON|Double|Float|Json)Variation(?:Detail)?)$")
_SDKS = {"openfeature": ("openfeature", "open-feature", "openfeature"),
         "unleash": ("unleash",), "launchdarkly": ("launchdarkly", "ldclient", "ld_client", "ldclient")}


def flags(f: OpsFacts) -> None:
    have = {sdk for sdk, needles in _SDKS.items() if f.imported(*needles)}
    if not have:
        return
    go = f.family == "go"
    for c in f.calls:
        if not c.recv:
            continue
        pos = positional(c.args)
        sdk = ""
        if "openfeature" in have and _OPENFEATURE.match(c.name):
            sdk = "openfeature"
        elif "unleash" in have and _UNLEASH.match(c.name):
            sdk = "unleash"
        elif "launchdarkly" in have and _LAUNCHDARKLY.match(c.name):
            sdk = "launchdarkly"
        if not sdk:
            continue
        # Go's OpenFeature client takes a context first: BooleanValue(ctx, "flag", false, evalCtx).
        at = 1 if go and sdk == "openfeature" and len(pos) > 1 and f.value(pos[0]) is None else 0
        if len(pos) <= at:
            continue
        key = f.value(pos[at])
        if not key or len(key) > 200:
            continue
        m = _OPENFEATURE.match(c.name)
        kind = m.group(1).lower() if m else ("boolean" if "nabled" in c.name else "variant")
        attrs = {"sdk": sdk, "type": kind}
        if len(pos) > at + 1 and sdk == "openfeature" and pos[at + 1].type in ("true", "false", "string", "integer",
                                                                               "number", "float", "interpreted_string_literal",
                                                                               "string_literal", "boolean_literal", "int_literal"):
            attrs["default"] = node_text(pos[at + 1])[:80]
        f.emit("ops.flag_eval", pos[at], key, "consumes", sdk, **attrs)
