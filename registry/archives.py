"""Safe extraction of uploaded SavedModel archives (.zip, .tar, .tar.gz) and deterministic
repacking, so the same SavedModel is stored as the same bytes however it was uploaded.

Extraction never trusts the archive: no absolute or `..` paths, no links or device files, a
bounded number of entries and a bounded expanded size counted on the bytes actually written.
"""

from __future__ import annotations

import gzip
import os
import stat
import tarfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from core.errors import InvalidInput, PayloadTooLarge
from registry.storage import CHUNK

ZIP = "zip"
TAR = "tar"
_SAVEDMODEL_MARKERS = ("saved_model.pb", "saved_model.pbtxt")


def archive_kind(filename: str) -> str | None:
    """`zip`, `tar` or None, from the file name."""
    lowered = filename.lower()
    if lowered.endswith(".zip"):
        return ZIP
    if lowered.endswith((".tar.gz", ".tgz", ".tar")):
        return TAR
    return None


def _safe_relative(name: str) -> PurePosixPath:
    """The member's path, relative and inside the destination, or InvalidInput."""
    cleaned = name.replace("\\", "/")
    path = PurePosixPath(cleaned)
    if cleaned.startswith("/") or path.is_absolute() or (len(cleaned) > 1 and cleaned[1] == ":"):
        raise InvalidInput(f"unsafe archive entry {name!r}: absolute paths are not allowed")
    if ".." in path.parts:
        raise InvalidInput(f"unsafe archive entry {name!r}: '..' in a path is not allowed")
    parts = [p for p in path.parts if p not in ("", ".")]
    return PurePosixPath(*parts) if parts else PurePosixPath(".")


class _Budget:
    def __init__(self, max_bytes: int, max_files: int):
        self.max_bytes, self.max_files = max_bytes, max_files
        self.bytes = 0
        self.files = 0

    def entry(self) -> None:
        self.files += 1
        if self.files > self.max_files:
            raise InvalidInput(f"the archive has more than {self.max_files} entries")

    def add(self, n: int) -> None:
        self.bytes += n
        if self.bytes > self.max_bytes:
            raise PayloadTooLarge(
                f"the archive expands to more than the limit of {self.max_bytes} bytes"
            )


def _write_member(stream, dest: Path, rel: PurePosixPath, budget: _Budget) -> None:
    target = dest.joinpath(*rel.parts)
    if target.exists():
        raise InvalidInput(f"the archive holds {str(rel)!r} twice")
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            budget.add(len(chunk))
            out.write(chunk)


def _extract_zip(path: Path, dest: Path, budget: _Budget) -> None:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            budget.entry()
            rel = _safe_relative(info.filename)
            # Unix file type bits, when the zip was made on Unix; 0 means "a plain entry".
            file_type = stat.S_IFMT(info.external_attr >> 16)
            if file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
                kind = "symlink" if file_type == stat.S_IFLNK else "special file"
                raise InvalidInput(
                    f"unsafe archive entry {info.filename!r}: a {kind} is not allowed"
                )
            if info.is_dir():
                dest.joinpath(*rel.parts).mkdir(parents=True, exist_ok=True)
                continue
            # Declared sizes may lie, so the budget counts the bytes actually written.
            with archive.open(info) as stream:
                _write_member(stream, dest, rel, budget)


def _extract_tar(path: Path, dest: Path, budget: _Budget) -> None:
    with tarfile.open(path, "r:*") as archive:
        for member in archive:
            budget.entry()
            rel = _safe_relative(member.name)
            if member.issym() or member.islnk():
                raise InvalidInput(
                    f"unsafe archive entry {member.name!r}: links are not allowed "
                    f"(it points to {member.linkname!r})"
                )
            if member.isdir():
                dest.joinpath(*rel.parts).mkdir(parents=True, exist_ok=True)
                continue
            if not member.isfile():
                raise InvalidInput(
                    f"unsafe archive entry {member.name!r}: device files, FIFOs and other "
                    "special files are not allowed"
                )
            stream = archive.extractfile(member)
            _write_member(stream, dest, rel, budget)


def extract_archive(path: Path, dest: Path, *, kind: str, max_bytes: int, max_files: int) -> None:
    """Extract a zip or tar archive into the empty directory dest, refusing anything unsafe."""
    budget = _Budget(max_bytes, max_files)
    try:
        if kind == ZIP:
            _extract_zip(path, dest, budget)
        else:
            _extract_tar(path, dest, budget)
    except (InvalidInput, PayloadTooLarge):
        raise
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InvalidInput(f"corrupt or truncated archive: {exc}") from exc
    except (OSError, ValueError, NotImplementedError) as exc:
        raise InvalidInput(f"corrupt or truncated archive: {type(exc).__name__}: {exc}") from exc
    if budget.files == 0:
        raise InvalidInput("the archive is empty")


def savedmodel_root(extracted: Path) -> Path:
    """The SavedModel directory: the archive root, or its single top-level folder."""
    if any((extracted / marker).is_file() for marker in _SAVEDMODEL_MARKERS):
        return extracted
    entries = [p for p in extracted.iterdir() if p.name not in ("__MACOSX",)]
    if len(entries) == 1 and entries[0].is_dir():
        inner = entries[0]
        if any((inner / marker).is_file() for marker in _SAVEDMODEL_MARKERS):
            return inner
    raise InvalidInput(
        "not a TensorFlow SavedModel or Keras model: the archive has no saved_model.pb at its "
        "root or in a single top-level folder"
    )


def pack_directory(source: Path, target: Path) -> None:
    """A reproducible .tar.gz of source's files (sorted, zeroed times and owners). Directories
    are implied by the file paths: a zip often omits empty ones, and the bytes must not differ."""

    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.mtime = 0
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mode = 0o644
        return info

    files: list[str] = []
    for dirpath, dirnames, filenames in os.walk(source):
        base = Path(dirpath)
        for name in dirnames + filenames:
            full = base / name
            if full.is_symlink() or not (full.is_file() or full.is_dir()):
                raise InvalidInput(f"{full.relative_to(source)} is a link or a special file")
        files.extend((base / name).relative_to(source).as_posix() for name in filenames)
    with (
        open(target, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for rel in sorted(files):
            tar.add(source / rel, arcname=rel, recursive=False, filter=normalise)
