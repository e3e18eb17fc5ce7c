"""Pure extractors: given one file's bytes, return facts. No git, no cache, no globals with state.

Each extractor module defines an `Extractor` (see `base.py`) and is listed in `registry.py`. An
extractor may also define a workspace-level `resolve` step (run during linking) for what needs more than
one file: `$ref`s across OpenAPI files, SQL migrations applied in order, proto imports.
"""
