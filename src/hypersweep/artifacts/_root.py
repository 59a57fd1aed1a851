"""Where a study's artifacts go: ``--artifact-root``, the spec's ``artifacts.root``, else beside the store."""

from __future__ import annotations

import os

from hypersweep.artifacts._blobs import is_local_root

__all__ = ["SERVER_FALLBACK_ROOT", "default_root"]

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
