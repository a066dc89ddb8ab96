"""Content-addressed blob storage on local disk, and cleanup of files a failed operation stored.

A blob lives at `<root>/sha256/ab/<sha><suffix>`. It is streamed to a temp file in the store root
while hashed, fsynced, checked, then renamed into place: a reader never sees a partial file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from core.errors import InvalidInput, PayloadTooLarge

CHUNK = 1024 * 1024
_local = threading.local()


@dataclass(frozen=True)
class StoredBlob:
    """Where a blob landed and whether this call put the file there."""

    relative_path: str
    sha256: str
    size: int
    created: bool


def iter_chunks(source: Any) -> Iterator[bytes]:
    """Chunks of a path, a Django UploadedFile or a binary file object."""
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as fh:
            yield from iter(lambda: fh.read(CHUNK), b"")
        return
    if hasattr(source, "chunks"):
        if hasattr(source, "seek"):
            source.seek(0)
        yield from source.chunks(CHUNK)
        return
    yield from iter(lambda: source.read(CHUNK), b"")


def copy_limited(source: Any, dest: IO[bytes], *, limit: int, what: str) -> tuple[str, int]:
    """Copy source into dest, hashing; PayloadTooLarge as soon as it passes `limit` bytes."""
    digest = hashlib.sha256()
    size = 0
    for chunk in iter_chunks(source):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the {what} is larger than the limit of {limit} bytes")
        digest.update(chunk)
        dest.write(chunk)
    return digest.hexdigest(), size


def blob_store(source: Any, *, root: Path, suffix: str, limit: int, what: str) -> StoredBlob:
    """Store source's bytes under root by sha256; identical bytes share one file."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".incoming-", dir=root)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            sha, size = copy_limited(source, out, limit=limit, what=what)
            out.flush()
            os.fsync(out.fileno())
        if tmp.stat().st_size != size:
            raise InvalidInput(f"the {what} could not be stored completely; try again")
        if size == 0:
            raise InvalidInput(f"the {what} is empty")
        relative = f"sha256/{sha[:2]}/{sha}{suffix}"
        final = root / relative
        if final.exists() and final.stat().st_size == size:
            tmp.unlink()
            return StoredBlob(relative, sha, size, created=False)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _remember_created(final)
    return StoredBlob(relative, sha, size, created=True)


def _remember_created(path: Path) -> None:
    stack = getattr(_local, "stack", None)
    if stack:
        stack[-1].append(path)


@contextlib.contextmanager
def discard_stored_files_on_error() -> Iterator[None]:
    """Delete the blobs stored inside this block if it raises (the rows roll back with them).

    Nested blocks hand their files to the enclosing one, so an outer failure still removes them.
    """
    stack = _local.__dict__.setdefault("stack", [])
    created: list[Path] = []
    stack.append(created)
    try:
        yield
    except BaseException:
        for path in created:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    else:
        if len(stack) > 1:
            stack[-2].extend(created)
    finally:
        stack.pop()


@contextlib.contextmanager
def work_dir(base: str | os.PathLike | None) -> Iterator[Path]:
    """A private scratch directory, removed with everything in it on the way out."""
    if base is not None:
        Path(base).mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="modelgate-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
