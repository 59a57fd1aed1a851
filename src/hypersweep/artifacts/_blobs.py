"""Blob I/O under the artifact root: names, filesystems, upload with sha256, verified fetch."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import posixpath
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from hypersweep.errors import ArtifactIntegrityError
from hypersweep.records import ArtifactRecord

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = [
    "CHECKPOINTS",
    "CHECKPOINT_KIND",
    "FILE_KIND",
    "MANIFEST",
    "check_name",
    "collect_dir",
    "download_refusal",
    "fetch",
    "is_local_root",
    "read_files",
    "record_from_json",
    "upload",
    "upload_blobs",
]

FILE_KIND = "file"
CHECKPOINT_KIND = "checkpoint"
MANIFEST = "manifest.json"
CHECKPOINTS = "checkpoints"
_CHUNK = 1 << 20
_LOCAL_PROTOCOLS = {"file", "local"}
_DOT_PART = re.compile(r"(^|/)\.\.?(/|$)")

Files = Sequence[tuple[str, str | os.PathLike[str]]]


# -- names and filesystems -----------------------------------------------------------------------------
def check_name(name: str) -> str:
    """An artifact name as stored: a relative ``/``-separated path without ``.``/``..`` parts.

    Raises ``ValueError`` for names that would escape their trial's folder (absolute, ``..``) or are
    empty, so a name can never write outside ``{root}/{study}/{trial_key}/`` nor outside a download
    folder.
    """
    s = str(name).replace("\\", "/")
    parts = [p for p in s.split("/") if p not in ("", ".")]
    if not parts or s.startswith("/") or ".." in parts:
        raise ValueError(f"invalid artifact name {name!r}: use a relative path without '..'")
    return "/".join(parts)


def _fs(root: str, storage_options: Mapping[str, Any] | None) -> tuple[AbstractFileSystem, str]:
    import fsspec.core

    fs, path = fsspec.core.url_to_fs(str(root), **dict(storage_options or {}))
    return fs, path.rstrip("/") or path


def _is_local(fs: AbstractFileSystem) -> bool:
    protocols = fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,)
    return bool(_LOCAL_PROTOCOLS & set(protocols))


def is_local_root(root: str) -> bool:
    """True for a plain folder path or a ``file://`` URL (no fsspec import needed)."""
    r = str(root)
    return "://" not in r or r.startswith(("file://", "local://"))


def _uri(fs: AbstractFileSystem, path: str) -> str:
    return fs.unstrip_protocol(path)


def _put(fs: AbstractFileSystem, src: IO[bytes], target: str) -> tuple[int, str]:
    """Stream ``src`` to ``target``; returns (size, sha256) of what was written.

    The bytes go to a temporary name beside ``target`` (``{name}.part-{random}``) and are renamed to
    ``target`` only once all of them are written, so a write that fails halfway (a full disk, a
    file-size limit, a reader that raises) never leaves a partial file at the final name: the
    temporary file is removed and the error raised."""
    if _is_local(fs):
        fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
    tmp = f"{target}.part-{uuid.uuid4().hex[:12]}"
    h = hashlib.sha256()
    size = 0
    try:
        with fs.open(tmp, "wb") as out:
            while chunk := src.read(_CHUNK):
                h.update(chunk)
                size += len(chunk)
                out.write(chunk)
        if _is_local(fs):
            os.replace(tmp, target)
        else:
            fs.mv(tmp, target)
    except BaseException:
        with contextlib.suppress(Exception):
            fs.rm(tmp)
        raise
    return size, h.hexdigest()


def _sha256_file(path: str | os.PathLike[str]) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


# -- artifacts -----------------------------------------------------------------------------------------
def collect_dir(folder: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """Every regular file under ``folder`` as ``(relative/posix/path, absolute path)``, sorted.

    Symlinked files are followed; symlinked folders are not descended into. A missing folder gives
    an empty list (a command trial that wrote nothing under ``$HYPERSWEEP_ARTIFACT_DIR``).
    """
    base = os.path.abspath(os.fspath(folder))
    if not os.path.isdir(base):
        return []
    out = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for fn in sorted(filenames):
            p = os.path.join(dirpath, fn)
            if os.path.isfile(p):
                out.append((os.path.relpath(p, base).replace(os.sep, "/"), p))
    return sorted(out)


def _expand(files: Files) -> list[tuple[str, str]]:
    """Directories become one entry per file (``name/relpath``); later duplicates of a name win."""
    by_name: dict[str, str] = {}
    for name, path in files:
        p = os.path.abspath(os.fspath(path))
        n = check_name(name)
        if os.path.isdir(p):
            for rel, fp in collect_dir(p):
                by_name.pop(f"{n}/{rel}", None)
                by_name[f"{n}/{rel}"] = fp
        else:
            by_name.pop(n, None)
            by_name[n] = p
    return list(by_name.items())


def upload(
    root: str,
    study: str,
    trial_key: str,
    files: Files,
    kind: str = FILE_KIND,
    *,
    storage_options: Mapping[str, Any] | None = None,
    problems: list[str] | None = None,
) -> list[ArtifactRecord]:
    """Copy local files (or folders) to ``{root}/{study}/{trial_key}/{name}``; returns their records.

    ``files`` are ``(name, local path)`` pairs, as ``log_artifact`` and :func:`collect_dir` give
    them. A folder is stored as one artifact per file named ``{name}/{relative path}``. When a name
    appears twice the last one wins (one file, one record). Size and sha256 are computed while the
    file is read for the upload, so they describe exactly the bytes stored.

    A file that cannot be read or written raises ``OSError`` (a bad name ``ValueError``), unless
    ``problems`` is given: then that file is skipped, a one-line message is appended to
    ``problems``, and the others are still uploaded.
    """
    fs, base = _fs(root, storage_options)
    prefix = f"{base}/{check_name(study)}/{check_name(trial_key)}"
    records: list[ArtifactRecord] = []
    good = []
    for name, path in files:
        try:
            check_name(name)
        except ValueError as e:
            if problems is None:
                raise
            problems.append(f"{e} ({os.fspath(path)}): not stored")
            continue
        good.append((name, path))
    entries = _expand(good)
    for name, path in entries:
        target = f"{prefix}/{name}"
        try:
            with open(path, "rb") as src:
                size, sha = _put(fs, src, target)
        except OSError as e:
            if problems is None:
                raise
            problems.append(f"artifact {name!r} ({path}) was not stored: {type(e).__name__}: {e}")
            continue
        records.append(ArtifactRecord(name, _uri(fs, target), size, sha, kind))
    return records


def read_files(files: Files) -> list[tuple[str, bytes]]:
    """The files' contents as ``(name, bytes)``, folders expanded as in :func:`upload`.

    For a worker that cannot reach the root itself (a local root on another node): the bytes travel
    back through Ray with the result, and the driver stores them with :func:`upload_blobs`.
    """
    out = []
    for name, path in _expand(files):
        with open(path, "rb") as f:
            out.append((name, f.read()))
    return out


def upload_blobs(
    root: str,
    study: str,
    trial_key: str,
    blobs: Iterable[tuple[str, bytes]],
    kind: str = FILE_KIND,
    *,
    storage_options: Mapping[str, Any] | None = None,
) -> list[ArtifactRecord]:
    """Like :func:`upload`, for contents already in memory (from :func:`read_files`)."""
    fs, base = _fs(root, storage_options)
    prefix = f"{base}/{check_name(study)}/{check_name(trial_key)}"
    by_name = {check_name(n): data for n, data in blobs}
    records = []
    for name, data in by_name.items():
        target = f"{prefix}/{name}"
        size, sha = _put(fs, io.BytesIO(data), target)
        records.append(ArtifactRecord(name, _uri(fs, target), size, sha, kind))
    return records


def record_from_json(obj: Mapping[str, Any]) -> ArtifactRecord:
    """An :class:`ArtifactRecord` from its JSON form (``dataclasses.asdict``)."""
    return ArtifactRecord(
        name=str(obj["name"]),
        uri=str(obj["uri"]),
        size=int(obj["size"]),
        sha256=str(obj["sha256"]),
        kind=str(obj.get("kind", FILE_KIND)),
    )


def download_refusal(uri: str, root: str, storage_options: Any = None) -> str | None:
    """Why ``uri`` must not be read as a blob of the artifact root ``root`` (None: it may), as a
    phrase ("is outside the artifact root").

    The URI must name a path strictly inside the root, on the same filesystem, without ``.``/``..``
    parts; for a local root its real path (symlinks resolved) must be inside the root's real path
    too. Nothing about the file itself is looked at beyond resolving its path."""
    try:
        fs_root, base = _fs(root, storage_options)
        fs, path = _fs(uri, storage_options)
    except (ValueError, OSError, ImportError) as e:
        return f"is not a location hypersweep can read ({e})"
    if type(fs) is not type(fs_root):
        return "is on another filesystem than the artifact root"
    if _DOT_PART.search(uri):
        return "is outside the artifact root"
    inner = path[len(base) :] if path.startswith(base + "/") else ""
    if not inner or posixpath.normpath(inner.lstrip("/")) != inner.lstrip("/") or ".." in inner.split("/"):
        return "is outside the artifact root"
    if _is_local(fs):
        real_base = os.path.realpath(base)
        real = os.path.realpath(path)
        if not real.startswith(real_base.rstrip(os.sep) + os.sep):
            return "is outside the artifact root"
    return None


def fetch(
    uri: str,
    dest: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    size: int | None = None,
    label: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    root: str | None = None,
) -> Path:
    """Download ``uri`` to the file ``dest``, verifying size and sha256 while writing.

    The bytes go to ``dest + ".part"`` and replace ``dest`` only once verified; a mismatch removes
    the partial file and raises :class:`ArtifactIntegrityError` naming the artifact (``label``), both
    digests and the URI. A missing remote file raises :class:`ArtifactIntegrityError` too. With
    ``root``, a URI outside that artifact root (see :func:`download_refusal`) is refused before
    anything is opened: :class:`ArtifactIntegrityError`, saying nothing about the file.
    """
    if root is not None:
        why = download_refusal(uri, root, storage_options)
        if why is not None:
            raise ArtifactIntegrityError(
                f"artifact {label or uri}: refused, its recorded location {uri} {why} ({root}); "
                "nothing was read from it"
            )
    fs, path = _fs(uri, storage_options)
    return _fetch(fs, path, Path(dest), sha256=sha256, size=size, label=label or uri)


def _fetch(
    fs: AbstractFileSystem, path: str, target: Path, *, sha256: str | None, size: int | None, label: str
) -> Path:
    uri = _uri(fs, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    h = hashlib.sha256()
    got = 0
    try:
        with fs.open(path, "rb") as src, open(part, "wb") as out:
            while chunk := src.read(_CHUNK):
                h.update(chunk)
                got += len(chunk)
                out.write(chunk)
    except FileNotFoundError as e:
        part.unlink(missing_ok=True)
        raise ArtifactIntegrityError(f"artifact {label}: {uri} is missing from the artifact root") from e
    except BaseException:  # a full disk, a size limit, an interrupt: no partial file is left behind
        part.unlink(missing_ok=True)
        raise
    digest = h.hexdigest()
    if (sha256 is not None and digest != sha256) or (size is not None and got != size):
        part.unlink(missing_ok=True)
        raise ArtifactIntegrityError(
            f"artifact {label}: sha256 mismatch: recorded {sha256} ({size} bytes), downloaded {digest} "
            f"({got} bytes) from {uri}; the stored copy is corrupted or was replaced"
        )
    os.replace(part, target)
    return target
