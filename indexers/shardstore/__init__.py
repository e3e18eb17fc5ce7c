"""Shard stores: where each repo's CI publishes its shard and every workspace pulls the ones it needs.

`layout.py` names the objects (content addressed by repo, commit and digest, one small index object per
repo pointing at its default branch's latest shard); `s3.py` speaks S3 to any endpoint (AWS, MinIO, R2,
GCS interoperability) through boto3, imported only when a store is used; `publish.py` uploads a shard
then its index, so a reader never sees half of one; `mirror.py` pulls what changed (ETags, digests),
checks every shard like a local one (`indexers.shard`), keeps the last good copy of each repo, and is
what the engine reads, so everything works offline from the last pull.
"""
