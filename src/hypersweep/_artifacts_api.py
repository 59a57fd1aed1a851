"""Artifacts, driver and reader side: the default root, listing, verified downloads, the best trial.

The CLI's ``hypersweep artifacts NAME NUMBER [--download DIR]`` and ``hypersweep best NAME
[--download DIR]`` are thin shells over :func:`list_artifacts`, :func:`download_artifacts` and
:func:`best_trial`. Files are read from the artifact root through fsspec with the storage options
of fsspec's configuration (``FSSPEC_S3_ENDPOINT_URL`` and the like), verified against the sha256
and size the store recorded.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hypersweep.errors import ArtifactIntegrityError, UsageError
from hypersweep.records import ArtifactRecord
from hypersweep.store import Store
from hypersweep.trial._artifacts import check_name, fetch, is_local_root

__all__ = [
    "SERVER_FALLBACK_ROOT",
    "best_trial",
    "default_root",
    "download_artifacts",
    "list_artifacts",
]

SERVER_FALLBACK_ROOT = "hypersweep-artifacts"


def _sqlite_file(store_url: str) -> str | None:
    """The database file of a SQLite URL; '' for an in-memory one; None when not SQLite."""
    scheme, sep, rest = store_url.partition("://")
    if not sep or scheme.split("+", 1)[0].lower() != "sqlite":
        return None
    path = rest.split("?", 1)[0]
    path = path[1:] if path.startswith("/") else path  # sqlite:///rel.db -> rel.db; ////abs -> /abs
    if path.startswith("file:"):  # sqlite:///file:path?uri=true
        path = path[5:]
    return "" if path in ("", ":memory:") else path


def _absolute(root: str, base: str | None = None) -> str:
    """A local root as an absolute plain path; any other URL unchanged (less a trailing ``/``)."""
    if not is_local_root(root):
        return root.rstrip("/") or root
    path = root.split("://", 1)[1] if "://" in root else root
    path = os.path.expanduser(path)
    if not os.path.isabs(path):
        path = os.path.join(base or os.getcwd(), path)
    return os.path.normpath(path)


def default_root(
    store_url: str,
    spec_root: str | None,
    cli_root: str | None,
    *,
    spec_dir: str | None = None,
) -> tuple[str, str | None]:
    """The study's artifact root and a warning (or None).

    ``--artifact-root`` wins over the spec's ``artifacts.root``, which wins over the default: an
    ``artifacts/`` folder beside the SQLite file, or ``./hypersweep-artifacts`` with a warning when
    the store is a server (or an in-memory SQLite). Local roots come back as absolute plain paths
    (workers run in the sweep's folder, not the driver's); a relative ``--artifact-root`` is taken
    from the current folder, a relative spec root from ``spec_dir`` (the sweep file's folder) when
    given. Other URLs (``s3://bucket/prefix``) are returned as they are.
    """
    if cli_root:
        return _absolute(cli_root), None
    if spec_root:
        return _absolute(spec_root, spec_dir), None
    db = _sqlite_file(store_url)
    if db:
        return os.path.join(os.path.dirname(os.path.abspath(db)), "artifacts"), None
    root = _absolute(SERVER_FALLBACK_ROOT)
    kind = "an in-memory SQLite database" if db == "" else "a database server"
    return root, (
        f"the store is {kind}, so artifacts and checkpoints go to {root} on this machine; pass "
        "--artifact-root or set artifacts.root in the sweep file to a location every machine can "
        "reach (an s3:// or other fsspec URL, or a shared folder)"
    )


def _trial_id(st: Store, name: str, number: int) -> int:
    study = st.get_study(name)
    return st.get_trial(study.study_id, number).trial_id


def list_artifacts(st: Store, name: str, number: int) -> list[ArtifactRecord]:
    """The artifacts recorded for trial ``number`` of study ``name`` (files and checkpoints)."""
    return st.get_artifacts(_trial_id(st, name, number))


def download_artifacts(
    st: Store,
    name: str,
    number: int,
    dest: str | os.PathLike[str],
    kinds: Iterable[str] | None = ("file",),
    *,
    storage_options: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Download trial ``number``'s artifacts of the given kinds (None: all) into ``dest``, each as
    ``dest/<artifact name>``, verifying size and sha256; returns the files written.

    Every artifact is tried; the ones that fail verification (or are missing from the root) are
    not left in ``dest``, and a :class:`ArtifactIntegrityError` then lists them all.
    """
    wanted = None if kinds is None else set(kinds)
    base = Path(dest)
    out: list[Path] = []
    failed: list[str] = []
    for rec in list_artifacts(st, name, number):
        if wanted is not None and rec.kind not in wanted:
            continue
        try:
            rel = check_name(rec.name)
        except ValueError as e:
            failed.append(str(e))
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
    from hypersweep import api

    rows = api.leaderboard_rows(st, [name], top=1)
    if not rows:
        raise UsageError(
            f"study {name!r} has no complete trial yet; run or resume it first (hypersweep resume {name})"
        )
    row = dict(rows[0])
    study, number = row["study"], row["number"]  # ``name`` may be a glob
    row["artifacts"] = [asdict(a) for a in list_artifacts(st, study, number)]
    if download is not None:
        row["downloaded"] = [str(p) for p in download_artifacts(st, study, number, download, kinds)]
    return row
