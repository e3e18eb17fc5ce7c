"""Linking of operational facts (`ops.*` usages, see `indexers.sources.ops`) across files and repositories:
metrics in code to the alerts, recording rules, SLOs and dashboards that read them; spans and routes to the
queries that name them; flag evaluations to flag definitions; routes to their siblings and guards. `index`
builds the `OpsIndex` of a Snapshot's usages."""
