"""An S3-compatible bucket as an index publication location (``KBSUGGEST_INDEX_URL=s3://bucket/prefix``).

The object operations ``kbsuggest/index/remote.py`` needs, on boto3 (``pip install 'kbsuggest[s3]'``).
Credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a profile, an
instance role) and are never read, logged or put in a message here. ``KBSUGGEST_S3_ENDPOINT_URL`` points it at
another S3-compatible store (MinIO, Ceph, moto). Writes use S3's conditional requests (``If-None-Match: *``,
``If-Match: <etag>``): that is what keeps version names unique and the pointer from losing an update.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from kbsuggest.errors import MissingDependencyError
from kbsuggest.index.remote import LocationError

# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html (the common subset)
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_clients: dict[str | None, object] = {}
_clients_lock = threading.Lock()


def parse_url(url: str) -> tuple[str, str]:
    """(bucket, prefix without slashes) of ``s3://bucket[/prefix]``; ValueError saying what is wrong (the value
    is not echoed: someone may have pasted a URL with a secret in it)."""
    if not url.startswith("s3://"):
        raise ValueError("must be s3://BUCKET or s3://BUCKET/PREFIX")
    bucket, _, prefix = url[len("s3://"):].partition("/")
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise ValueError("the bucket name must be 3-63 lowercase letters, digits, '.' or '-' (s3://BUCKET/PREFIX)")
    prefix = prefix.strip("/")
    if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
        raise ValueError("the prefix must not have empty, '.' or '..' parts (s3://BUCKET/PREFIX)")
    return bucket, prefix


def _client(endpoint: str | None):
    """One client per endpoint and process (boto3 clients are thread-safe; making one takes ~50 ms)."""
    with _clients_lock:
        if endpoint not in _clients:
            try:
                import boto3
                from botocore.config import Config
            except ImportError:
                raise MissingDependencyError("KBSUGGEST_INDEX_URL=s3://… needs boto3: pip install 'kbsuggest[s3]'") from None
            config = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"})
            _clients[endpoint] = boto3.client("s3", endpoint_url=endpoint, config=config)
        return _clients[endpoint]


class S3Bucket:
    """Objects under ``s3://bucket/prefix``; keys are relative to the prefix."""

    def __init__(self, url: str, endpoint: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.bucket, self.prefix = parse_url(url)
        self._s3 = _client(endpoint)
        from botocore.exceptions import BotoCoreError, ClientError

        self._errors = (BotoCoreError, ClientError)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _failed(self, exc: Exception, what: str) -> LocationError:
        code = self._code(exc)  # AccessDenied, NoSuchBucket, SlowDown…; else botocore's message (no secret in it)
        return LocationError(f"{what} at {self.url} failed: {code or type(exc).__name__}"
                             + ("" if code else f" ({exc})"))

    @staticmethod
    def _code(exc: Exception) -> str | None:
        return getattr(exc, "response", {}).get("Error", {}).get("Code")

    @staticmethod
    def _status(exc: Exception) -> int:
        return getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 0)

    def get(self, key: str) -> tuple[bytes, str] | None:
        """(content, ETag) of an object; None when there is none."""
        try:
            found = self._s3.get_object(Bucket=self.bucket, Key=self._key(key))
            return found["Body"].read(), found["ETag"]
        except self._errors as exc:
            if self._code(exc) == "NoSuchKey":  # not NoSuchBucket: a missing bucket is an error, not "nothing"
                return None
            raise self._failed(exc, f"reading {key}") from None

    def put(self, key: str, data: bytes, *, if_match: str | None = None, if_absent: bool = False) -> bool:
        """Write an object; False when its precondition failed (it exists, or its ETag is not ``if_match``)."""
        conditions = {"IfMatch": if_match} if if_match else {"IfNoneMatch": "*"} if if_absent else {}
        try:
            self._s3.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **conditions)
            return True
        except self._errors as exc:
            if conditions and self._status(exc) in (409, 412):  # 409: a conditional write raced another
                return False
            raise self._failed(exc, f"writing {key}") from None

    def upload(self, key: str, path: Path) -> None:
        try:
            self._s3.upload_file(str(path), self.bucket, self._key(key))
        except (*self._errors, OSError) as exc:
            raise self._failed(exc, f"uploading {key}") from None

    def download(self, key: str, path: Path) -> None:
        try:
            self._s3.download_file(self.bucket, self._key(key), str(path))
        except self._errors as exc:
            raise self._failed(exc, f"downloading {key}") from None

    def _list(self, prefix: str, delimiter: str = "") -> tuple[list[str], list[str]]:
        """(keys, sub-"directories") directly under ``prefix`` (relative to ours)."""
        keys, dirs = [], []
        full = self._key(prefix)
        try:
            for page in self._s3.get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=full, **({"Delimiter": delimiter} if delimiter else {})):
                keys += [o["Key"][len(full):] for o in page.get("Contents", [])]
                dirs += [p["Prefix"][len(full):].rstrip("/") for p in page.get("CommonPrefixes", [])]
        except self._errors as exc:
            raise self._failed(exc, f"listing {prefix or '/'}") from None
        return keys, dirs

    def children(self, prefix: str) -> list[str]:
        """Names of the "directories" under ``prefix`` ("" for the top)."""
        return self._list(f"{prefix}/" if prefix else "", "/")[1]

    def delete_tree(self, prefix: str) -> None:
        """Every object under ``prefix/``."""
        keys = [f"{prefix}/{k}" for k in self._list(f"{prefix}/")[0]]
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
            try:
                self._s3.delete_objects(Bucket=self.bucket, Delete={
                    "Objects": [{"Key": self._key(k)} for k in keys[start:start + 1000]], "Quiet": True})
            except self._errors as exc:
                raise self._failed(exc, f"deleting {prefix}") from None

