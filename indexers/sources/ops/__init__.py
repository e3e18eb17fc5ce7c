"""Operational context: the constraints production puts on code, read from the files that state them.

One module per source kind: `rules` (Prometheus/Thanos/Mimir alerting and recording rules, the
PrometheusRule resource), `grafana` (dashboards), `slo` (OpenSLO, Sloth, Pyrra), `flagdefs` (flagd,
Unleash, LaunchDarkly, plain flag files), `pipelines` (GitHub Actions, GitLab CI, Argo CD, Flux), and
`code/` (metric definitions, span names, flag evaluations, routes and their auth guards in source code).
`promql` reads PromQL with a real parser; `names` holds the documented naming conventions that make a
metric in code and a series in a query the same metric; `doc` the YAML/JSON helpers the readers share.

Every fact is a `Usage` whose kind starts with `ops.` (no new fact type, so the cache, shards and the
Snapshot carry them unchanged); `indexers.ops` links them across files and repositories.
"""
