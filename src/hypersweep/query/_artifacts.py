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
from hypersweep.query._rows import leaderboard_rows, objectives_of
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
    number: int | None = None,
) -> dict[str, Any]:
    """The best complete trial of study ``name`` as a leaderboard row, plus ``artifacts`` (their
    records as dicts). With ``download``, its artifacts (of ``kinds``) are fetched and verified
    there, and the row gets ``downloaded`` (the paths, as strings). ``UsageError`` when the study
    has no complete trial yet (as for ``hypersweep report``).

    A study with several objectives has a front, not one best: the answer is ``{"study", "objectives",
    "pareto_front": [rows]}``, and ``download`` needs ``number``, the trial of the front to fetch.
    ``number`` picks that trial of the front (of any study: a trial with rank 1)."""
    several = _several_objectives(st, name)
    if several or number is not None:
        front = leaderboard_rows(st, [name], top=None, pareto=True)
    else:
        front = leaderboard_rows(st, [name], top=1)
    if not front:
        raise UsageError(
            f"study {name!r} has no complete trial yet; run or resume it first (hypersweep resume {shlex.quote(name)})"
        )
    if number is not None:
        picked = [r for r in front if r["number"] == number]
        if not picked:
            on = ", ".join(str(r["number"]) for r in front)
            raise UsageError(f"trial {number} of {name!r} is not on its Pareto front (its trials: {on})")
        front = picked
    elif several:
        if download is not None:
            on = ", ".join(str(r["number"]) for r in front)
            raise UsageError(
                f"study {name!r} has several objectives, so its best is a Pareto front of {len(front)} "
                f"trial(s) ({on}): pick the one to download with --number N"
            )
        rows = [dict(r) for r in front]
        for r in rows:
            r["artifacts"] = [asdict(a) for a in list_artifacts(st, r["study"], r["number"])]
        study = st.get_study(rows[0]["study"])
        return {
            "study": study.name,
            "objectives": [{"metric": m, "goal": d.value} for m, d in objectives_of(study)],
            "pareto_front": rows,
        }
    row = dict(front[0])
    study_name, trial_number = row["study"], row["number"]  # ``name`` may be a glob
    row["artifacts"] = [asdict(a) for a in list_artifacts(st, study_name, trial_number)]
    if download is not None:
        row["downloaded"] = [
            str(p) for p in download_artifacts(st, study_name, trial_number, download, kinds)
        ]
    return row


def _several_objectives(st: Store, name: str) -> bool:
    found = st.list_studies(name) if any(c in name for c in "*?[") else [st.get_study(name)]
    return any(len(s.directions) > 1 for s in found)
