"""S3-compatible object storage through boto3: AWS, MinIO, Cloudflare R2, GCS interoperability, ...

The endpoint is `endpoint_url` ([shards] in lore.toml) or the standard AWS_ENDPOINT_URL_S3 /
AWS_ENDPOINT_URL variables; credentials and region come from boto3's standard chain (environment, shared
files, instance roles). A custom endpoint uses path-style addressing (no bucket DNS names needed).
Request checksums are only those every implementation knows (Content-MD5 on upload); the shard's own
sha256, recorded in its index object, is what readers verify. Every failure is a `StoreError` naming the
object and the reason, never a traceback.
"""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Any

from indexers.shardstore.layout import StoreError, StoreURL


class S3Store:
    def __init__(self, url: StoreURL, endpoint_url: str | None = None, region: str | None = None):
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:
            raise StoreError(f"{url.show()}: the S3 client is not installed (pip install 'lore-lsp[org]')") from exc
        self.url = url
        endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        config = Config(retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=10, read_timeout=120,
                        s3={"addressing_style": "path"} if endpoint else {},
                        request_checksum_calculation="when_required", response_checksum_validation="when_required")
        try:
            self._client: Any = boto3.session.Session().client("s3", endpoint_url=endpoint_url or None,
                                                               region_name=region, config=config)
        except Exception as exc:  # noqa: BLE001 - botocore raises many kinds for a bad configuration
            raise StoreError(f"{url.show()}: cannot set up the S3 client: {exc}") from exc

    def _fail(self, key: str, exc: Exception) -> StoreError:
        from botocore.exceptions import ClientError

        if isinstance(exc, ClientError):
            err = exc.response.get("Error", {})
            reason = f"{err.get('Code', 'error')}: {err.get('Message') or exc}"
        else:
            reason = f"{exc.__class__.__name__}: {exc}"
        return StoreError(f"{self.url.show(key)}: {reason}")

    def list_indexes(self) -> dict[str, str]:
        """repo -> ETag of its index object."""
        prefix = self.url.index_prefix()
        out: dict[str, str] = {}
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.url.bucket, Prefix=prefix)
            for page in pages:
                for obj in page.get("Contents", []):
                    name = obj["Key"][len(prefix):]
                    if name.endswith(".json") and "/" not in name:
                        out[name[: -len(".json")]] = str(obj.get("ETag", ""))
        except Exception as exc:  # noqa: BLE001 - ClientError, EndpointConnectionError, NoCredentialsError, ...
            raise self._fail(prefix, exc) from exc
        return out

    def get(self, key: str, max_bytes: int, etag: str | None = None) -> tuple[bytes | None, str]:
        """(bytes, ETag), or (None, etag) when the object still has `etag`. Refuses more than max_bytes."""
        from botocore.exceptions import ClientError

        args: dict[str, Any] = {"Bucket": self.url.bucket, "Key": key}
        if etag:
            args["IfNoneMatch"] = etag
        try:
            resp = self._client.get_object(**args)
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 304 or exc.response.get("Error", {}).get("Code") in ("304", "NotModified"):
                return None, etag or ""
            raise self._fail(key, exc) from exc
        except Exception as exc:  # noqa: BLE001
            raise self._fail(key, exc) from exc
        body = resp["Body"]
        try:
            length = int(resp.get("ContentLength", 0))
            if length > max_bytes:
                raise StoreError(f"{self.url.show(key)}: {length} bytes, more than the limit of {max_bytes}")
            data = body.read(max_bytes + 1)
        except StoreError:
            raise
        except Exception as exc:  # noqa: BLE001 - a connection dropped mid-body
            raise self._fail(key, exc) from exc
        finally:
            body.close()
        if len(data) > max_bytes:
            raise StoreError(f"{self.url.show(key)}: more than the limit of {max_bytes} bytes")
        return data, str(resp.get("ETag", ""))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client.head_object(Bucket=self.url.bucket, Key=key)
            return True
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return False
            raise self._fail(key, exc) from exc
        except Exception as exc:  # noqa: BLE001
            raise self._fail(key, exc) from exc

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """One PUT: S3 makes the object visible whole or not at all."""
        md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        try:
            self._client.put_object(Bucket=self.url.bucket, Key=key, Body=data, ContentType=content_type, ContentMD5=md5)
        except Exception as exc:  # noqa: BLE001
            raise self._fail(key, exc) from exc


def open_store(url: str, endpoint_url: str | None = None, region: str | None = None) -> S3Store:
    return S3Store(StoreURL.parse(url), endpoint_url, region)
