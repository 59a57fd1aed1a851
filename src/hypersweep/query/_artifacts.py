"""Artifacts, reader side: listing, verified downloads, the best trial.

The CLI's ``hypersweep artifacts NAME NUMBER [--download DIR]`` and ``hypersweep best NAME
[--download DIR]`` are thin shells over :func:`list_artifacts`, :func:`download_artifacts` and
:func:`best_trial`. Files are read from the artifact root through fsspec with the storage options
of fsspec's configuration (``FSSPEC_S3_ENDPOINT_URL`` and the like), verified against the sha256
and size the store recorded.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hypersweep.artifacts import check_name, default_root, download_refusal, fetch, layout_root
from hypersweep.errors import ArtifactIntegrityError, UsageError
from hypersweep.query._rows import leaderboard_rows
from hypersweep.records import ArtifactRecord, StudyRecord
from hypersweep.store import Store

__all__ = [
    "best_trial",
    "download_artifacts",
    "list_artifacts",
]


def _trial_id(st: Store, name: str, number: int) -> int:
    study = st.get_study(name)
    return st.get_trial(study.study_id, number).trial_id


def list_artifacts(st: Store, name: str, number: int) -> list[ArtifactRecord]:
    """The artifacts recorded for trial ``number`` of study ``name`` (files and checkpoints)."""
    return st.get_artifacts(_trial_id(st, name, number))


def _study_root(st: Store, study: StudyRecord) -> str | None:
    """The artifact root the study's runs used by default (its sweep file's ``artifacts.root``, else
    beside a SQLite store): a renamed study's blobs still lie under it. None when it cannot be told."""
    from hypersweep.errors import SpecError
    from hypersweep.spec import parse_spec

    try:
        spec = parse_spec(study.spec_text, file=study.spec_path, workdir=study.workdir, check_files=False)
    except SpecError:
        return None
    spec_root = (spec.artifacts or {}).get("root") if isinstance(spec.artifacts, Mapping) else None
    root, _ = default_root(st.url_masked, spec_root, None, spec_dir=study.workdir)
    return root


def download_artifacts(
    st: Store,
    name: str,
    number: int,
    dest: str | os.PathLike[str],
    kinds: Iterable[str] | None = ("file",),
    *,
    storage_options: Mapping[str, Any] | None = None,
    artifact_root: str | None = None,
) -> list[Path]:
    """Download trial ``number``'s artifacts of the given kinds (None: all) into ``dest``, each as
    ``dest/<artifact name>``, verifying size and sha256; returns the files written.

    Only blobs inside the artifact root are read: ``artifact_root`` when given, else the study's
    default root (its ``artifacts.root``, or ``artifacts/`` beside a SQLite store), else the root that
    the record's URI implies by hypersweep's layout (``{root}/{study}/{number}/{name}``, see
    docs/artifacts.md). A record whose URI is anywhere else (a forged ``/etc/hostname``), or that
    leads out of the root through ``..`` or a symlink, is refused without opening it.

    Every artifact is tried; the ones that fail verification (or are missing from the root, or are
    refused) are not left in ``dest``, and a :class:`ArtifactIntegrityError` then lists them all.
    """
    wanted = None if kinds is None else set(kinds)
    base = Path(dest)
    out: list[Path] = []
    failed: list[str] = []
    study = st.get_study(name)
    name_of_study = study.name
    recorded_root = artifact_root or _study_root(st, study)
    for rec in list_artifacts(st, name, number):
        if wanted is not None and rec.kind not in wanted:
            continue
        try:
            rel = check_name(rec.name)
        except ValueError as e:
            failed.append(str(e))
            continue
        root = (
            recorded_root
            if recorded_root is not None and download_refusal(rec.uri, recorded_root, storage_options) is None
            else layout_root(rec, name_of_study, str(number))
        )
        if root is None:
            failed.append(
                f"artifact {rec.name}: refused, its recorded location {rec.uri} is not in the artifact "
                f"root's layout for {name_of_study} #{number}; nothing was read from it"
            )
            continue
        try:
            out.append(
                fetch(
                    rec.uri,
                    base / rel,
                    sha256=rec.sha256,
                    size=rec.size,
                    label=rec.name,
                    storage_options=storage_options,
                    root=root,
                )
            )
        except ArtifactIntegrityError as e:
            failed.append(str(e))
    if failed:
        raise ArtifactIntegrityError(
            f"{len(failed)} artifact(s) of {name} #{number} failed verification "
            f"({len(out)} downloaded to {base}):\n" + "\n".join(failed)
        )
    return out


def best_trial(
    st: Store,
    name: str,
    *,
    download: str | os.PathLike[str] | None = None,
    kinds: Iterable[str] | None = ("file",),
) -> dict[str, Any]:
    """The best complete trial of study ``name`` as a leaderboard row, plus ``artifacts`` (their
    records as dicts). With ``download``, its artifacts (of ``kinds``) are fetched and verified
    there, and the row gets ``downloaded`` (the paths, as strings). ``UsageError`` when the study
    has no complete trial yet (as for ``hypersweep report``)."""
    rows = leaderboard_rows(st, [name], top=1)
    if not rows:
        raise UsageError(
            f"study {name!r} has no complete trial yet; run or resume it first (hypersweep resume {shlex.quote(name)})"
        )
    row = dict(rows[0])
    study, number = row["study"], row["number"]  # ``name`` may be a glob
    row["artifacts"] = [asdict(a) for a in list_artifacts(st, study, number)]
    if download is not None:
        row["downloaded"] = [str(p) for p in download_artifacts(st, study, number, download, kinds)]
    return row
