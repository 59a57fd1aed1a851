"""The trial-side checkpoint API: ``hypersweep.checkpoint`` and ``hypersweep.restore_checkpoint``."""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hypersweep.artifacts import collect_dir, restore, save_checkpoint
from hypersweep.records import ArtifactRecord

__all__ = ["checkpoint", "restore_checkpoint"]


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
