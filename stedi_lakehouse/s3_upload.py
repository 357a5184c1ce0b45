"""Uploads a local landing zone to S3 for the Athena target.

Files keep their layout (`<zone>/landing/<file>.json` under the prefix); large files go up in
parts; a file already there with the same size and SHA-256 is skipped, so a rerun uploads
nothing new.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from stedi_lakehouse.landing import walk_zone
from stedi_lakehouse.paths import LANDING_ZONES
from stedi_lakehouse.preflight import PreflightError

CHECKSUM_KEY = "sha256"


class UploadError(PreflightError):
    """The upload cannot go on; the message says what is wrong and where."""


@dataclass
class UploadSummary:
    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{len(self.uploaded)} files uploaded, {len(self.skipped)} already there"


def split_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://") or len(uri) <= len("s3://"):
        raise UploadError(f"{uri}: expected an s3://bucket/prefix destination")
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    return bucket, prefix.strip("/")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _already_there(client: Any, bucket: str, key: str, size: int, checksum: str) -> bool:
    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            return False
        raise
    return head["ContentLength"] == size and head.get("Metadata", {}).get(CHECKSUM_KEY) == checksum


def upload_landing(
    local_root: Path,
    destination: str,
    endpoint_url: str | None = None,
    multipart_threshold: int = 64 * 1024 * 1024,
) -> UploadSummary:
    """Upload every delivery under local_root (a *.json or *.json.gz file at any depth of a
    <zone>/landing/ folder, not hidden) to the s3:// destination prefix, keeping its path."""
    bucket, prefix = split_s3_uri(destination)
    files = [path for zone in LANDING_ZONES for path, file in walk_zone(local_root, zone) if file.is_data]
    if not files:
        raise UploadError(f"{local_root}: no landing files (<zone>/landing/**/*.json or *.json.gz) to upload")
    client = boto3.client("s3", endpoint_url=endpoint_url)
    transfer = TransferConfig(multipart_threshold=multipart_threshold, multipart_chunksize=max(multipart_threshold, 5 * 1024 * 1024))
    summary = UploadSummary()
    try:
        client.head_bucket(Bucket=bucket)
        for path in files:
            relative = path.relative_to(local_root).as_posix()
            key = f"{prefix}/{relative}" if prefix else relative
            checksum, size = file_sha256(path), path.stat().st_size
            if _already_there(client, bucket, key, size, checksum):
                summary.skipped.append(key)
                continue
            client.upload_file(
                str(path), bucket, key, ExtraArgs={"Metadata": {CHECKSUM_KEY: checksum}}, Config=transfer
            )
            summary.uploaded.append(key)
    except NoCredentialsError:
        raise UploadError(
            "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run on an instance role"
        ) from None
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in {"404", "NoSuchBucket", "NotFound"}:
            raise UploadError(f"s3://{bucket}: no such bucket; create it or fix the destination {destination}") from None
        raise UploadError(f"{destination}: S3 refused the upload ({code}: {error})") from None
    except BotoCoreError as error:
        raise UploadError(f"{destination}: {error}") from None
    return summary
