"""The only S3 code: pyarrow's S3 filesystem, and its errors translated once into ``LakeError``.

pyarrow (the ``parquet`` extra) is already how obrec writes Parquet; its S3 layer is the AWS C++
SDK, so credentials, region and endpoint come the standard way: ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``, ``AWS_PROFILE`` and ``~/.aws/credentials``,
``AWS_REGION``, and ``AWS_ENDPOINT_URL`` (or ``--endpoint-url``) for stores other than AWS.
No credential passes through obrec: none can reach a log line or an error. Why this library
rather than boto3 or s3fs: docs/lake.md, "Choosing the S3 library".

A PUT is atomic in S3 (and in every S3-compatible store): an object appears whole when its
upload completes, or not at all, so readers never see a partial file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pyarrow.fs as pafs

from recorder.errors import LakeAccessError, LakeError
from recorder.lake.layout import LakeUrl

CONNECT_TIMEOUT_S = 5.0
REQUEST_TIMEOUT_S = 30.0
_REFUSALS = (
    "ACCESS_DENIED",
    "INVALID_ACCESS_KEY_ID",
    "SIGNATURE_DOES_NOT_MATCH",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "NO_SUCH_BUCKET",
    "NoSuchBucket",
    "bucket does not exist",
)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the store is; None means the AWS SDK's own default (environment, config files)."""

    endpoint_url: str | None = None
    region: str | None = None

    def filesystem(self) -> pafs.S3FileSystem:
        endpoint = (
            self.endpoint_url
            or os.environ.get("AWS_ENDPOINT_URL_S3")
            or os.environ.get("AWS_ENDPOINT_URL")
        )
        region = self.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if endpoint and not region:
            region = "us-east-1"  # S3-compatible stores ignore it; AWS would look it up
        scheme = "https"
        if endpoint and "://" in endpoint:
            scheme, endpoint = endpoint.split("://", 1)
        return pafs.S3FileSystem(
            endpoint_override=endpoint or None,
            scheme=scheme,
            region=region or None,
            connect_timeout=CONNECT_TIMEOUT_S,
            request_timeout=REQUEST_TIMEOUT_S,
            # A missing bucket is the user's mistake to hear about, not to paper over.
            allow_bucket_creation=False,
            allow_bucket_deletion=False,
            retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=3),
        )


class Objects:
    """A lake's objects: read, put (atomic), delete, list. Every error is a ``LakeError``."""

    def __init__(self, url: LakeUrl, endpoint: Endpoint) -> None:
        self.url = url
        self._fs = endpoint.filesystem()

    @property
    def filesystem(self) -> pafs.S3FileSystem:
        return self._fs

    def check(self) -> None:
        """Fail now if the bucket is missing or the credentials are refused."""
        try:
            self._fs.get_file_info(pafs.FileSelector(self.url.bucket, allow_not_found=False))
        except (OSError, ValueError) as exc:
            raise self.translate(exc) from None

    def get(self, path: str) -> bytes | None:
        """The object's bytes, or None if there is none."""
        try:
            with self._fs.open_input_stream(path) as stream:
                return bytes(stream.read())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            if "NO_SUCH_KEY" in str(exc) or "Path does not exist" in str(exc):
                return None
            raise self.translate(exc) from None

    def put(self, path: str, data: bytes) -> None:
        try:
            with self._fs.open_output_stream(path) as stream:
                stream.write(data)
        except (OSError, ValueError) as exc:
            raise self.translate(exc) from None

    def delete(self, path: str) -> None:
        try:
            self._fs.delete_file(path)
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            raise self.translate(exc) from None

    def exists(self, path: str) -> bool:
        try:
            return self._fs.get_file_info(path).type is pafs.FileType.File
        except (OSError, ValueError) as exc:
            raise self.translate(exc) from None

    def files(self, under: str) -> list[str]:
        """Every object path under the folder ``under`` (none if there is no such folder)."""
        try:
            infos = self._fs.get_file_info(
                pafs.FileSelector(under, recursive=True, allow_not_found=True)
            )
        except (OSError, ValueError) as exc:
            raise self.translate(exc) from None
        return sorted(i.path for i in infos if i.type is pafs.FileType.File)

    def translate(self, exc: Exception) -> LakeError:
        """One line naming the problem and the fix; never a credential (the SDK's messages
        hold keys and bucket names at most, never a secret, and we keep only the reason)."""
        text = str(exc)
        reason = text.split("AWS Error ", 1)[-1].split(" (Request ID", 1)[0].strip()
        url = str(self.url)
        if "NO_SUCH_BUCKET" in text or "NoSuchBucket" in text or "bucket does not exist" in text:
            return LakeAccessError(
                url, f"bucket {self.url.bucket!r} does not exist; create it or fix the lake's URL"
            )
        if any(word in text for word in _REFUSALS):
            return LakeAccessError(
                url,
                f"the store refused our credentials ({reason.split(':', 1)[0]}); set "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) to a key that may "
                "read and write the bucket",
            )
        return LakeError(
            url, f"the store failed or is unreachable ({reason}); check it and --endpoint-url"
        )
