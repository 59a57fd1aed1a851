"""What of the sweep folder is shipped to a Ray cluster as the trials' working directory (docs/security.md).

Ray zips the working directory in the driver's process and reads every file it ships to do so. A SQLite
store in that folder must never be read that way: closing any descriptor of a file drops the POSIX locks
the process holds on it, so the driver would lose its SQLite locks mid-run (and a second driver could then
corrupt the database). So the store, its ``-wal``/``-shm``/``-journal``/``.lock`` files and the artifact
root are always left out, by their resolved paths, after every other rule: nothing re-includes them.

Beyond those: ``.git``, ``.venv`` and ``__pycache__`` are left out by default, then ``.hypersweepignore``
(gitignore syntax, ``!`` re-includes, read with ``pathspec``) adds or removes files. Nothing else is
dropped silently: large files and files that look like secrets (``.env``, keys) are shipped, with a warning
that says how to leave them out.
"""

from __future__ import annotations

import os
import urllib.parse
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

__all__ = [
    "DEFAULT_EXCLUDES",
    "IGNORE_FILE",
    "LARGE_FILE_BYTES",
    "ShipPlan",
    "plan_shipping",
    "sqlite_files",
    "working_dir_env",
]

IGNORE_FILE = ".hypersweepignore"
DEFAULT_EXCLUDES = (".git/", ".venv/", "__pycache__/")
LARGE_FILE_BYTES = 50 * 1024 * 1024
_SQLITE_SIDECARS = ("-wal", "-shm", "-journal", ".lock")
_SECRET_NAMES = (".env", ".env.*", "*.pem", "*.key", "id_rsa*", "id_ed25519*", ".pgpass", ".netrc", "*.p12")
_SECRETS = pathspec.GitIgnoreSpec.from_lines(_SECRET_NAMES)


@dataclass
class ShipPlan:
    """``excludes``: gitignore patterns for Ray's ``runtime_env["excludes"]`` (the last match decides);
    ``warnings``: what is shipped but probably should not be."""

    workdir: Path
    excludes: list[str]
    warnings: list[str] = field(default_factory=list)

    @property
    def spec(self) -> pathspec.GitIgnoreSpec:
        return pathspec.GitIgnoreSpec.from_lines(self.excludes)

    def shipped(self) -> Iterator[str]:
        """The files (relative POSIX paths) that are shipped; excluded folders are not entered."""
        spec = self.spec
        for dirpath, dirnames, filenames in os.walk(self.workdir):
            rel_dir = Path(dirpath).relative_to(self.workdir)
            keep = []
            for d in sorted(dirnames):
                rel = (rel_dir / d).as_posix()
                if not spec.match_file(rel + "/"):
                    keep.append(d)
            dirnames[:] = keep
            for f in sorted(filenames):
                rel = (rel_dir / f).as_posix()
                if not spec.match_file(rel):
                    yield rel


def sqlite_files(url: str) -> list[Path]:
    """The database file of a SQLite store URL and the files SQLite and hypersweep keep beside it
    (none for a server or in-memory store)."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.startswith("sqlite"):
        return []
    db = rest[1:] if rest.startswith("/") else rest  # sqlite:///rel.db -> rel.db; sqlite:////abs -> /abs
    db = db.split("?", 1)[0]
    if db.startswith("file:"):
        db = urllib.parse.urlparse(db).path or db[len("file:") :]
    if not db or db == ":memory:":
        return []
    path = Path(db)
    return [path, *(path.with_name(path.name + s) for s in _SQLITE_SIDECARS)]


def _anchored(path: Path, workdir: Path, is_dir: bool) -> str | None:
    """``path`` as a pattern anchored at ``workdir`` (None when it lies outside it)."""
    try:
        rel = path.resolve().relative_to(workdir)
    except ValueError:
        return None
    if not rel.parts:  # the whole folder: nothing sensible to leave out
        return None
    text = "/" + rel.as_posix()
    for ch in ("\\", "*", "?", "[", "!", "#"):
        text = text.replace(ch, "\\" + ch)
    return text + ("/" if is_dir else "")


def plan_shipping(
    workdir: str | os.PathLike[str],
    files: Iterable[str | os.PathLike[str]] = (),
    dirs: Iterable[str | os.PathLike[str]] = (),
) -> ShipPlan:
    """What to leave out of ``workdir`` when it is shipped. ``files`` and ``dirs`` are never shipped
    (the store's files, the artifact root), whatever ``.hypersweepignore`` says."""
    root = Path(workdir).resolve()
    lines: list[str] = list(DEFAULT_EXCLUDES)
    ignore = root / IGNORE_FILE
    if ignore.is_file():
        lines += [ln.rstrip("\n") for ln in ignore.read_text(encoding="utf-8", errors="replace").splitlines()]
    forced: list[str] = []
    for p, is_dir in [*((f, False) for f in files), *((d, True) for d in dirs)]:
        pattern = _anchored(Path(p), root, is_dir)
        if pattern is not None:
            forced.append(pattern)
            if is_dir:
                forced.append(pattern.rstrip("/"))  # also a file or link of that name
    plan = ShipPlan(root, [*lines, *forced])
    large: list[str] = []
    secrets: list[str] = []
    for rel in plan.shipped():
        if _SECRETS.match_file(rel):
            secrets.append(rel)
        try:
            if (root / rel).stat().st_size >= LARGE_FILE_BYTES:
                large.append(rel)
        except OSError:
            continue
    if secrets:
        plan.warnings.append(
            f"{', '.join(secrets[:5])}{' ...' if len(secrets) > 5 else ''} in {root} look like secrets and are "
            f"shipped to the cluster with the working directory; list them in {IGNORE_FILE} to leave them out"
        )
    if large:
        plan.warnings.append(
            f"{', '.join(large[:5])}{' ...' if len(large) > 5 else ''} in {root} are over "
            f"{LARGE_FILE_BYTES // (1024 * 1024)} MB and are shipped to the cluster with the working directory "
            f"(Ray limits a working directory's size); list them in {IGNORE_FILE} and put data on shared storage"
        )
    return plan


def _local_dir(root: str | None) -> str | None:
    if not root:
        return None
    if root.startswith("file://"):
        return urllib.parse.urlparse(root).path
    return None if "://" in root else root


def working_dir_env(
    working_dir: str, store_url: str | None = None, artifact_root: str | None = None
) -> dict[str, object]:
    """Ray's ``runtime_env`` that ships ``working_dir`` without the store's files and the artifact root;
    warns (``UserWarning``) about large and secret-looking files that are shipped."""
    root = _local_dir(artifact_root)
    plan = plan_shipping(working_dir, sqlite_files(store_url or ""), [root] if root else [])
    for w in plan.warnings:
        warnings.warn(w, stacklevel=3)
    return {"working_dir": str(plan.workdir), "excludes": plan.excludes}
