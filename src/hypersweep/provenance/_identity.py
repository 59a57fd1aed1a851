"""Code and data identity of a study: the git state, the trial's code file, the data files' hashes.

Data hashes are cached by (path, size, mtime) in the user's cache folder, so a big file is hashed once.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["code_file", "file_hash", "git_info", "hash_data", "spec_file_hash"]

_PY = re.compile(r"^python(\d+(\.\d+)?)?$")
_CHUNK = 1 << 20


def git_info(folder: str) -> tuple[str | None, bool | None, str | None]:
    """(commit, dirty, sha256 of the uncommitted diff) of the repository holding ``folder``."""

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return None, None, None
    status = git("status", "--porcelain") or ""
    dirty = bool(status.strip())
    diff = git("diff", "HEAD") or ""
    return commit.strip(), dirty, hashlib.sha256((diff + status).encode()).hexdigest() if dirty else None


def file_hash(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def spec_file_hash(path: str | None) -> str | None:
    """sha256 of the sweep file's text as it is now (the study records the hash of what it ran)."""
    if not path or not os.path.isfile(path):
        return None
    return hashlib.sha256(Path(path).read_text().encode()).hexdigest()


def code_file(trial: Any, workdir: str) -> str | None:
    """The file holding the trial's code: the function's module, or the command's script/program."""
    if trial.function:
        rel = trial.function.partition(":")[0].replace(".", os.sep)
        for cand in (os.path.join(workdir, rel + ".py"), os.path.join(workdir, rel, "__init__.py")):
            if os.path.isfile(cand):
                return cand
        return None
    if trial.program and os.path.isfile(os.path.join(workdir, trial.program)):
        return os.path.join(workdir, trial.program)
    items = [c for c in (trial.command or ()) if c not in ("${env}", "${interpreter}")]
    if items and _PY.match(os.path.basename(items[0])):
        items = items[1:]
    for item in items:
        if item.startswith("-") or "{" in item or "$" in item:
            continue
        cand = os.path.join(workdir, item)
        return cand if os.path.isfile(cand) else None
    return None


def _cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "hypersweep" / "data-hashes.json"


def _load_cache() -> dict[str, Any]:
    try:
        return json.loads(_cache_path().read_text())
    except (OSError, ValueError):
        return {}


def _save_cache(cache: Mapping[str, Any]) -> None:
    path = _cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(cache))
        tmp.replace(path)
    except OSError:
        pass  # a cache that cannot be written only costs time


def _files(root: Path) -> Iterable[Path]:
    if root.is_file():
        yield root
    elif root.is_dir():
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                yield Path(dirpath) / name


def hash_data(paths: Sequence[str], workdir: str) -> dict[str, str]:
    """sha256 of each ``trial.data`` path (a folder hashes its files' names and contents); a missing
    path maps to ``"missing"``."""
    cache = _load_cache()
    changed = False
    out: dict[str, str] = {}
    for p in paths:
        root = Path(p) if os.path.isabs(p) else Path(workdir) / p
        if not root.exists():
            out[p] = "missing"
            continue
        total = hashlib.sha256()
        for f in _files(root):
            st = f.stat()
            key = str(f.resolve())
            hit = cache.get(key)
            if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
                digest = hit[2]
            else:
                digest = file_hash(f)
                cache[key] = [st.st_size, st.st_mtime_ns, digest]
                changed = True
            total.update(f"{f.relative_to(root) if root.is_dir() else f.name}\0{digest}\n".encode())
        out[p] = total.hexdigest()
    if changed:
        _save_cache(cache)
    return out
