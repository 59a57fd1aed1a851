"""The checkpoint layout: checkpoints keyed by the params' hash, a manifest written last."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypersweep.artifacts._blobs import (
    CHECKPOINT_KIND,
    CHECKPOINTS,
    MANIFEST,
    _fetch,
    _fs,
    _put,
    _sha256_file,
    _uri,
    check_name,
    collect_dir,
)
from hypersweep.errors import ArtifactIntegrityError
from hypersweep.records import ArtifactRecord

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = [
    "latest_checkpoint",
    "params_hash",
    "restore",
    "restore_into",
    "save_checkpoint",
    "save_checkpoint_dir",
]


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
