"""Operational facts in source code: metric definitions, span names, feature-flag evaluations, and route
handlers with their auth guards. `extract.OpsCodeExtractor` is the extractor."""
