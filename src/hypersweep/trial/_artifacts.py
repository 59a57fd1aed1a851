"""Artifact and checkpoint storage, worker side: copies files to the artifact root through fsspec.

The artifact root is a local folder (a plain path or a ``file://`` URL) or any fsspec URL
(``s3://bucket/prefix``, ``gs://...``). Storage options (endpoints, credentials) come from the
caller's ``storage_options`` or from fsspec's own configuration: ``FSSPEC_<PROTOCOL>_<KWARG>``
environment variables, ``FSSPEC_<PROTOCOL>`` JSON, or files under ``~/.config/fsspec``, read when
fsspec is first imported in a process.

Layout under the root::

    {root}/{study}/{trial_key}/{name}                              artifacts of one trial
    {root}/{study}/checkpoints/{params_hash}/{n:06d}-{trial_key}/  one checkpoint: its files, then
                                                     manifest.json  written last (marks it complete)

``trial_key`` is the trial's number, or ``rerun-<trial_id>`` for a ``reproduce`` rerun.
Checkpoints are keyed by the hash of the trial's params, not by the trial, so a later trial with the
same params (an interrupted trial run again on resume) finds them. A directory logged as an artifact
is stored as one artifact per file, named ``{name}/{relative path}``.

Workers never open the store: these functions return :class:`ArtifactRecord` values that travel back
to the driver with the trial's result. Only the standard library and fsspec (imported lazily, so a
trial's ``import hypersweep`` stays cheap) are used here.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from hypersweep.errors import ArtifactIntegrityError
from hypersweep.records import ArtifactRecord

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = [
    "CHECKPOINT_KIND",
    "FILE_KIND",
    "MANIFEST",
    "check_name",
    "checkpoint",
    "collect_dir",
    "fetch",
    "is_local_root",
    "latest_checkpoint",
    "params_hash",
    "read_files",
    "record_from_json",
    "restore_checkpoint",
    "restore_into",
    "save_checkpoint",
    "save_checkpoint_dir",
    "upload",
    "upload_blobs",
]

FILE_KIND = "file"
CHECKPOINT_KIND = "checkpoint"
MANIFEST = "manifest.json"
CHECKPOINTS = "checkpoints"
_CHUNK = 1 << 20
_LOCAL_PROTOCOLS = {"file", "local"}

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
    """Stream ``src`` to ``target``; returns (size, sha256) of what was written."""
    if _is_local(fs):
        fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
    h = hashlib.sha256()
    size = 0
    with fs.open(target, "wb") as out:
        while chunk := src.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
            out.write(chunk)
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


def fetch(
    uri: str,
    dest: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    size: int | None = None,
    label: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> Path:
    """Download ``uri`` to the file ``dest``, verifying size and sha256 while writing.

    The bytes go to ``dest + ".part"`` and replace ``dest`` only once verified; a mismatch removes
    the partial file and raises :class:`ArtifactIntegrityError` naming the artifact (``label``), both
    digests and the URI. A missing remote file raises :class:`ArtifactIntegrityError` too.
    """
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
    digest = h.hexdigest()
    if (sha256 is not None and digest != sha256) or (size is not None and got != size):
        part.unlink(missing_ok=True)
        raise ArtifactIntegrityError(
            f"artifact {label}: sha256 mismatch: recorded {sha256} ({size} bytes), downloaded {digest} "
            f"({got} bytes) from {uri}; the stored copy is corrupted or was replaced"
        )
    os.replace(part, target)
    return target


# -- checkpoints ---------------------------------------------------------------------------------------
def _flat(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in params.items():
        if isinstance(v, Mapping):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def params_hash(params: Mapping[str, Any]) -> str:
    """16 hex digits identifying a parameter set; nested and flat (dotted) forms hash alike.

    The same canonical JSON as ``strategies.params_key`` (sorted keys, compact, ``default=str``)
    over the flattened params.
    """
    text = json.dumps(_flat(params), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _ckpt_base(root: str, study: str, params: Mapping[str, Any], storage_options: Any) -> tuple[Any, str]:
    fs, base = _fs(root, storage_options)
    return fs, f"{base}/{check_name(study)}/{CHECKPOINTS}/{params_hash(params)}"


def _seq(entry: str) -> int | None:
    head = entry.rstrip("/").rsplit("/", 1)[-1].split("-", 1)[0]
    return int(head) if head.isdigit() else None


def _entries(fs: AbstractFileSystem, base: str) -> list[tuple[int, str]]:
    """Checkpoint folders under ``base`` as (sequence number, path), newest last."""
    fs.invalidate_cache(base)  # another process (an earlier trial) may have written since we last looked
    try:
        names = fs.ls(base, detail=False)
    except FileNotFoundError:
        return []
    out = []
    for n in names:
        seq = _seq(n)
        if seq is not None:
            out.append((seq, n.rstrip("/")))
    return sorted(out)


def _manifest(fs: AbstractFileSystem, folder: str) -> dict[str, Any] | None:
    try:
        with fs.open(f"{folder}/{MANIFEST}", "rb") as f:
            data = json.loads(f.read().decode())
    except (FileNotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("files"), list) else None


def _manifests(fs: AbstractFileSystem, base: str) -> list[tuple[str, dict[str, Any]]]:
    """Complete checkpoints (with a manifest), newest first."""
    out = []
    for _, folder in reversed(_entries(fs, base)):
        m = _manifest(fs, folder)
        if m is not None:
            out.append((folder, m))
    return out


def _fingerprint(files: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    return sorted((str(f["path"]), str(f["sha256"])) for f in files)


def latest_checkpoint(
    root: str, study: str, params: Mapping[str, Any], *, storage_options: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """The newest complete checkpoint's manifest (with its ``folder`` URI added), or None."""
    fs, base = _ckpt_base(root, study, params, storage_options)
    found = _manifests(fs, base)
    if not found:
        return None
    folder, m = found[0]
    return {**m, "folder": _uri(fs, folder)}


def save_checkpoint(
    root: str,
    study: str,
    params: Mapping[str, Any],
    trial_key: str,
    path: str | os.PathLike[str],
    *,
    storage_options: Mapping[str, Any] | None = None,
) -> list[ArtifactRecord]:
    """Upload a checkpoint (a file or a folder) at once; returns its records (kind ``checkpoint``).

    It goes to ``{root}/{study}/checkpoints/{params_hash}/{n:06d}-{trial_key}/``, ``n`` one more
    than the newest there, and ``manifest.json`` is written last, so a checkpoint cut off halfway is
    never restored. A checkpoint whose files equal an existing checkpoint of the same params is not
    stored again (returns ``[]``): a command trial's ``$HYPERSWEEP_CHECKPOINT_DIR`` that still holds
    what was restored into it costs nothing. An empty folder returns ``[]``.
    """
    src = os.path.abspath(os.fspath(path))
    if os.path.isdir(src):
        entries, ckind, label = collect_dir(src), "dir", os.path.basename(src)
    elif os.path.isfile(src):
        entries, ckind, label = [(os.path.basename(src), src)], "file", os.path.basename(src)
    else:
        raise FileNotFoundError(f"checkpoint {src!r} does not exist")
    if not entries:
        return []
    local = [(rel, p, *_sha256_file(p)) for rel, p in entries]
    mine = sorted((rel, sha) for rel, _, _, sha in local)
    fs, base = _ckpt_base(root, study, params, storage_options)
    for _, m in _manifests(fs, base):
        if _fingerprint(m["files"]) == mine:
            return []
    existing = _entries(fs, base)
    n = existing[-1][0] + 1 if existing else 1
    folder_name = f"{n:06d}-{check_name(trial_key)}"
    folder = f"{base}/{folder_name}"
    files, records = [], []
    for rel, p, _, _ in local:
        target = f"{folder}/{rel}"
        with open(p, "rb") as f:
            size, sha = _put(fs, f, target)  # the bytes stored, even if the file changed since hashing
        files.append({"path": rel, "size": size, "sha256": sha})
        records.append(
            ArtifactRecord(f"{CHECKPOINTS}/{folder_name}/{rel}", _uri(fs, target), size, sha, CHECKPOINT_KIND)
        )
    manifest = {
        "version": 1,
        "seq": n,
        "trial_key": str(trial_key),
        "kind": ckind,
        "name": label,
        "created_at": datetime.now(UTC).isoformat(),
        "params": _flat(params),
        "files": files,
    }
    _put(fs, io.BytesIO(json.dumps(manifest, indent=1, default=str).encode()), f"{folder}/{MANIFEST}")
    return records


def _download_checkpoint(fs: AbstractFileSystem, folder: str, m: Mapping[str, Any], dest: Path) -> Path:
    written: list[Path] = []
    try:
        for f in m["files"]:
            rel = check_name(f["path"])
            label = f"{CHECKPOINTS}/{folder.rsplit('/', 1)[-1]}/{rel}"
            size = int(f["size"])
            written.append(
                _fetch(fs, f"{folder}/{rel}", dest / rel, sha256=f["sha256"], size=size, label=label)
            )
    except ArtifactIntegrityError:
        for p in written:  # leave no mix of two checkpoints behind
            p.unlink(missing_ok=True)
        raise
    if m.get("kind") == "file" and len(m["files"]) == 1:
        return dest / check_name(m["files"][0]["path"])
    return dest


def restore(
    root: str,
    study: str,
    params: Mapping[str, Any],
    dest: str | os.PathLike[str] | None = None,
    *,
    storage_options: Mapping[str, Any] | None = None,
) -> Path | None:
    """Download the newest complete checkpoint of ``params`` into ``dest`` (default: a new temp folder).

    Returns the checkpoint as it was saved: the folder for a folder checkpoint, the file for a file
    checkpoint; None when there is none. Every file's sha256 is verified; a damaged checkpoint is
    skipped with a warning for the next older one, and when all are damaged
    :class:`ArtifactIntegrityError` is raised.
    """
    fs, base = _ckpt_base(root, study, params, storage_options)
    found = _manifests(fs, base)
    if not found:
        return None
    target = Path(dest) if dest is not None else Path(tempfile.mkdtemp(prefix="hypersweep-checkpoint-"))
    target.mkdir(parents=True, exist_ok=True)
    damaged = []
    for folder, m in found:
        try:
            return _download_checkpoint(fs, folder, m, target)
        except ArtifactIntegrityError as e:
            damaged.append(str(e))
            warnings.warn(f"{e}; trying an older checkpoint", stacklevel=2)
    raise ArtifactIntegrityError("every checkpoint of these params is damaged:\n" + "\n".join(damaged))


def restore_into(
    root: str,
    study: str,
    params: Mapping[str, Any],
    dest: str | os.PathLike[str],
    *,
    storage_options: Mapping[str, Any] | None = None,
) -> bool:
    """Restore the newest checkpoint of ``params`` into the folder ``dest`` (a command trial's
    ``$HYPERSWEEP_CHECKPOINT_DIR``, before the process starts); False when there is none."""
    return restore(root, study, params, dest, storage_options=storage_options) is not None


def save_checkpoint_dir(
    root: str,
    study: str,
    params: Mapping[str, Any],
    trial_key: str,
    folder: str | os.PathLike[str],
    *,
    storage_options: Mapping[str, Any] | None = None,
) -> list[ArtifactRecord]:
    """Upload what a command trial left in ``$HYPERSWEEP_CHECKPOINT_DIR`` as a checkpoint.

    Nothing (``[]``) when the folder is missing, empty, or unchanged since it was restored (equal to
    an existing checkpoint of these params)."""
    if not os.path.isdir(folder) or not collect_dir(folder):
        return []
    return save_checkpoint(root, study, params, trial_key, folder, storage_options=storage_options)


# -- the trial-side API --------------------------------------------------------------------------------
def _command_target() -> tuple[str, str, dict[str, Any], str] | None:
    root = os.environ.get("HYPERSWEEP_ARTIFACT_ROOT")
    if not root:
        return None
    number = os.environ.get("HYPERSWEEP_TRIAL_NUMBER", "")
    key = os.environ.get("HYPERSWEEP_TRIAL_KEY") or number or "rerun"
    params = json.loads(os.environ.get("HYPERSWEEP_PARAMS", "{}"))
    return root, os.environ.get("HYPERSWEEP_STUDY", ""), params, key


def _replace_dir_contents(folder: str, src: str) -> None:
    """Make ``folder`` hold a copy of ``src`` (a file or a folder) and nothing else."""
    if os.path.abspath(src) == os.path.abspath(folder):
        return
    os.makedirs(folder, exist_ok=True)
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)
    if os.path.isdir(src):
        shutil.copytree(src, folder, dirs_exist_ok=True)
    else:
        shutil.copy2(src, folder)


def checkpoint(path: str | os.PathLike[str]) -> list[ArtifactRecord]:
    """Save a trial's state (a file or a folder) as a checkpoint, uploaded to the artifact root now.

    A later trial with the same params (an interrupted trial run again on resume) gets the newest
    one from :func:`restore_checkpoint`. Returns the records stored ([] when the content equals an
    existing checkpoint). Outside a sweep it warns once and does nothing.
    """
    from hypersweep.trial import _context

    p = os.fspath(path)
    if not os.path.exists(p):
        raise FileNotFoundError(f"hypersweep.checkpoint: {p!r} does not exist")
    ctx = _context._CURRENT.get()
    if ctx is not None:
        root = getattr(ctx, "artifact_root", None)
        if not root:
            _context._warn_once("checkpoint")
            return []
        key = getattr(ctx, "trial_key", "") or (
            str(ctx.info.number) if ctx.info.number is not None else "rerun"
        )
        records = save_checkpoint(root, ctx.info.study, ctx.info.params, key, p)
        uploaded = getattr(ctx, "uploaded", None)
        if uploaded is None:
            uploaded = []
            ctx.uploaded = uploaded  # type: ignore[attr-defined]
        uploaded.extend(records)
        return records
    if _context._in_command_trial():
        target = _command_target()
        ckpt_dir = os.environ.get("HYPERSWEEP_CHECKPOINT_DIR")
        if target is not None:
            root, study, params, key = target
            records = save_checkpoint(root, study, params, key, p)
            if records:
                line = {"hypersweep_checkpoint": [asdict(r) for r in records]}
                sys.stdout.write(json.dumps(line) + "\n")
                sys.stdout.flush()
            if ckpt_dir:  # so the upload after exit finds this checkpoint, not an older one
                _replace_dir_contents(ckpt_dir, p)
            return records
        if ckpt_dir:  # no root known here: the runner uploads the folder when the process ends
            _replace_dir_contents(ckpt_dir, p)
            return []
    _context._warn_once("checkpoint")
    return []


def restore_checkpoint(dest: str | os.PathLike[str] | None = None) -> Path | None:
    """The newest checkpoint saved by a trial with these params, downloaded into ``dest`` (default: a
    new temp folder): the folder, or the file, as it was passed to :func:`checkpoint`. None when
    there is none, and outside a sweep (with a warning, once)."""
    from hypersweep.trial import _context

    ctx = _context._CURRENT.get()
    if ctx is not None:
        root = getattr(ctx, "artifact_root", None)
        if not root:
            _context._warn_once("restore_checkpoint")
            return None
        return restore(root, ctx.info.study, ctx.info.params, dest)
    if _context._in_command_trial():
        target = _command_target()
        if target is not None:
            root, study, params, _ = target
            return restore(root, study, params, dest)
        ckpt_dir = os.environ.get("HYPERSWEEP_CHECKPOINT_DIR")
        if ckpt_dir and collect_dir(ckpt_dir):
            if dest is None:
                return Path(ckpt_dir)
            shutil.copytree(ckpt_dir, dest, dirs_exist_ok=True)
            return Path(dest)
        return None
    _context._warn_once("restore_checkpoint")
    return None
