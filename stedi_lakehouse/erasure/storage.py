"""Where erase reads and rewrites files: a local folder or an S3 prefix, behind one interface.

Both replace a file as a whole: a reader (or a kill) sees the old or the new content, never a
mix. Locally through a hidden temporary file and a rename; on S3 a PUT to the same key replaces
the object at once, after which the old versions of a versioned bucket are deleted.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from stedi_lakehouse.preflight import PreflightError

# A rewrite in progress: hidden (a leading dot), so neither Spark nor Athena reads it.
TEMP_SUFFIX = ".stedi-erasing"


class StorageError(PreflightError):
    """A file or object could not be read or written; the message says which."""


@dataclass(frozen=True)
class OldVersion:
    """A version of an S3 object that is not its current content (versioned buckets only)."""

    key: str
    version_id: str


@dataclass(frozen=True)
class FileStat:
    """What a listing says of a file: Spark's binaryFile source and the staging manifest keep these."""

    size: int
    modified_at: datetime.datetime  # UTC, naive, to the millisecond as Hadoop lists it


EPOCH = datetime.datetime(1970, 1, 1)


def _to_millisecond(moment: datetime.datetime) -> datetime.datetime:
    moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class Storage(Protocol):
    """Files under one root, named by paths relative to it ('/'-separated)."""

    def describe(self, key: str) -> str: ...
    def files(self, under: str) -> list[str]: ...
    def exists(self, key: str) -> bool: ...
    def read(self, key: str) -> bytes: ...
    def stat(self, key: str) -> FileStat: ...
    def replace(self, key: str, data: bytes, keep_modified: bool = False) -> None: ...
    def delete(self, key: str) -> None: ...
    def old_versions(self, under: str) -> list[OldVersion]: ...
    def read_version(self, version: OldVersion) -> bytes: ...
    def delete_version(self, version: OldVersion) -> None: ...


@dataclass(frozen=True)
class LocalStorage:
    root: Path

    def describe(self, key: str) -> str:
        return str(self.root / key)

    def files(self, under: str) -> list[str]:
        """Every file under the folder, at any depth, hidden ones included; not our temporary files."""
        folder = self.root / under
        if not folder.is_dir():
            return []
        return sorted(
            path.relative_to(self.root).as_posix()
            for path in folder.rglob("*")
            if path.is_file() and not path.name.endswith(TEMP_SUFFIX)
        )

    def exists(self, key: str) -> bool:
        return (self.root / key).is_file()

    def read(self, key: str) -> bytes:
        try:
            return (self.root / key).read_bytes()
        except OSError as error:
            raise StorageError(f"{self.root / key}: cannot be read ({error.strerror})") from None

    def stat(self, key: str) -> FileStat:
        status = (self.root / key).stat()
        return FileStat(status.st_size, EPOCH + datetime.timedelta(milliseconds=status.st_mtime_ns // 1_000_000))

    def replace(self, key: str, data: bytes, keep_modified: bool = False) -> None:
        """keep_modified: the new content keeps the file's modification time (a landing file's
        is when it was delivered, which staging's manifest and watermark go by)."""
        path = self.root / key
        temporary = path.with_name(f".{path.name}{TEMP_SUFFIX}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with temporary.open("wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            if path.exists():
                status = path.stat()
                os.chmod(temporary, status.st_mode & 0o7777)
                if keep_modified:
                    os.utime(temporary, ns=(status.st_atime_ns, status.st_mtime_ns))
            os.replace(temporary, path)
        except OSError as error:
            temporary.unlink(missing_ok=True)
            raise StorageError(f"{path}: cannot be rewritten ({error.strerror})") from None
        self._forget_checksum(path)
        _sync_folder(path.parent)

    def delete(self, key: str) -> None:
        path = self.root / key
        path.unlink(missing_ok=True)
        self._forget_checksum(path)
        _sync_folder(path.parent)

    @staticmethod
    def _forget_checksum(path: Path) -> None:
        # Hadoop's checksum file of the old content: Spark would reject the new content with it.
        path.with_name(f".{path.name}.crc").unlink(missing_ok=True)

    def old_versions(self, under: str) -> list[OldVersion]:
        return []  # a folder keeps no versions

    def read_version(self, version: OldVersion) -> bytes:
        raise StorageError(f"{self.root}: a folder has no versions")

    def delete_version(self, version: OldVersion) -> None:
        raise StorageError(f"{self.root}: a folder has no versions")

    def remove_leftovers(self, under: str) -> int:
        """Delete the temporary files of a rewrite that was killed; how many there were."""
        folder = self.root / under
        leftovers = list(folder.rglob(f".*{TEMP_SUFFIX}")) if folder.is_dir() else []
        for path in leftovers:
            path.unlink(missing_ok=True)
        return len(leftovers)


def _sync_folder(folder: Path) -> None:
    """Make a rename or unlink durable before the journal records it."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@dataclass
class S3Storage:
    """Objects under s3://bucket/prefix; keys given and returned relative to the prefix."""

    bucket: str
    prefix: str
    client: Any
    _versioned: bool | None = field(default=None, init=False)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _relative(self, full_key: str) -> str:
        return full_key[len(self.prefix) + 1:] if self.prefix else full_key

    def describe(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def _pages(self, operation: str, under: str) -> Iterator[dict[str, Any]]:
        prefix = self._key(under).rstrip("/") + "/" if under else (self.prefix + "/" if self.prefix else "")
        yield from self.client.get_paginator(operation).paginate(Bucket=self.bucket, Prefix=prefix)

    def files(self, under: str) -> list[str]:
        return sorted(
            self._relative(item["Key"])
            for page in self._pages("list_objects_v2", under)
            for item in page.get("Contents", [])
            if not item["Key"].endswith("/")
        )

    def exists(self, key: str) -> bool:
        listing = self.client.list_objects_v2(Bucket=self.bucket, Prefix=self._key(key), MaxKeys=1)
        return any(item["Key"] == self._key(key) for item in listing.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()

    def stat(self, key: str) -> FileStat:
        head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        return FileStat(head["ContentLength"], _to_millisecond(head["LastModified"]))

    @property
    def versioned(self) -> bool:
        """Versioning enabled or suspended: old versions may exist and must go."""
        if self._versioned is None:
            status = self.client.get_bucket_versioning(Bucket=self.bucket).get("Status")
            self._versioned = status in {"Enabled", "Suspended"}
        return self._versioned

    def replace(self, key: str, data: bytes, keep_modified: bool = False) -> None:
        """Write the new object, then delete every older version of it. S3 sets LastModified on
        every write: keep_modified cannot be honoured (staging's manifest gets the new time)."""
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        for version in self._versions_of(key, current=False):
            self.delete_version(version)

    def delete(self, key: str) -> None:
        """Delete the object; on a versioned bucket every version of it (no delete marker stays)."""
        if self.versioned:
            for version in self._versions_of(key, current=True):
                self.delete_version(version)
        else:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def _versions_of(self, key: str, current: bool) -> list[OldVersion]:
        if not self.versioned:
            return []
        full_key = self._key(key)
        listing = self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=full_key)
        return [
            OldVersion(key, item["VersionId"])
            for page in listing
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            if item["Key"] == full_key and (current or not item["IsLatest"])
        ]

    def old_versions(self, under: str) -> list[OldVersion]:
        """Every version that is not the current content of its key, delete markers left out."""
        if not self.versioned:
            return []
        return [
            OldVersion(self._relative(item["Key"]), item["VersionId"])
            for page in self._pages("list_object_versions", under)
            for item in page.get("Versions", [])
            if not item["IsLatest"]
        ]

    def read_version(self, version: OldVersion) -> bytes:
        response = self.client.get_object(Bucket=self.bucket, Key=self._key(version.key), VersionId=version.version_id)
        return response["Body"].read()

    def delete_version(self, version: OldVersion) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(version.key), VersionId=version.version_id)
