"""Uploads on disk: copied once, hashed on the way, refused past the size limit."""

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from services.config import Settings
from services.errors import InvalidInput, NotFound

CHUNK = 4 * 1024 * 1024


@contextmanager
def staged(
    source: Path | BinaryIO, filename: str, settings: Settings
) -> Iterator[tuple[Path, str, int]]:
    """The upload as a file on disk with its SHA-256 and size (a copy only for streams)."""
    digest, size = hashlib.sha256(), 0
    if isinstance(source, Path):
        if not source.is_file():
            raise NotFound(f"There is no file at '{source}'.")
        check_size(source.stat().st_size, filename, settings)
        with source.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
        yield source, digest.hexdigest(), size
        return
    staged = staging_path(settings.tmp_dir, filename)
    try:
        sha256, size = copy_upload(source, staged, filename=filename, settings=settings)
        yield staged, sha256, size
    finally:
        staged.unlink(missing_ok=True)


def staging_path(folder: Path, filename: str) -> Path:
    """A fresh file name for an upload; it keeps the extension (openpyxl decides by it)."""
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"upload-{uuid.uuid4().hex}{Path(filename).suffix.lower()[:10]}"


def copy_upload(
    source: BinaryIO, dest: Path, *, filename: str, settings: Settings
) -> tuple[str, int]:
    """Writes an upload to `dest`, refusing it past the size limit; returns SHA-256 and size."""
    digest, size = hashlib.sha256(), 0
    try:
        with dest.open("wb") as out:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                check_size(size, filename, settings)
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size


def check_size(size: int, filename: str, settings: Settings) -> None:
    """Refuses files past KAIZEN_MAX_UPLOAD_MB."""
    if size > settings.max_upload_bytes:
        raise InvalidInput(
            f"'{filename}' is larger than {settings.max_upload_mb:,} MB, the upload limit of this "
            "installation. Upload a smaller extract, or ask an admin to raise KAIZEN_MAX_UPLOAD_MB."
        )
