"""Artifact and checkpoint storage, used by workers and the driver: copies files to the artifact root through fsspec.

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

A trial's records are kept only when they name that trial's own blobs under the root
(:func:`accepted_records`), and downloads read only inside the root (:func:`download_refusal`; see
docs/artifacts.md). Workers never open the store: these functions return :class:`ArtifactRecord`
values that travel back to the driver with the trial's result. Only the standard library and fsspec (imported lazily, so a
trial's ``import hypersweep`` stays cheap) are used here.
"""

from __future__ import annotations

from hypersweep.artifacts._blobs import (
    CHECKPOINT_KIND,
    CHECKPOINTS,
    FILE_KIND,
    MANIFEST,
    check_name,
    collect_dir,
    download_refusal,
    fetch,
    is_local_root,
    read_files,
    record_from_json,
    upload,
    upload_blobs,
)
from hypersweep.artifacts._checkpoints import (
    latest_checkpoint,
    params_hash,
    restore,
    restore_into,
    save_checkpoint,
    save_checkpoint_dir,
)
from hypersweep.artifacts._root import default_root
from hypersweep.artifacts._scope import (
    ArtifactScope,
    accepted_records,
    layout_root,
    record_refusal,
    trial_scope,
)

__all__ = [
    "ArtifactScope",
    "CHECKPOINTS",
    "CHECKPOINT_KIND",
    "FILE_KIND",
    "MANIFEST",
    "accepted_records",
    "check_name",
    "collect_dir",
    "default_root",
    "download_refusal",
    "fetch",
    "is_local_root",
    "latest_checkpoint",
    "layout_root",
    "params_hash",
    "read_files",
    "record_from_json",
    "record_refusal",
    "restore",
    "restore_into",
    "save_checkpoint",
    "save_checkpoint_dir",
    "trial_scope",
    "upload",
    "upload_blobs",
]
