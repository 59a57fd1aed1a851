"""What of a sweep folder is shipped to a Ray cluster (docs/security.md): never the store, its sidecar
files or the artifact root; `.git`, `.venv`, `__pycache__` left out by default; `.hypersweepignore`."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from hypersweep.executors._shipping import LARGE_FILE_BYTES, plan_shipping, sqlite_files, working_dir_env


def _touch(root: Path, *names: str) -> None:
    for n in names:
        p = root / n
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x")


def _folder(tmp_path: Path) -> Path:
    d = tmp_path / "sweep"
    _touch(
        d,
        "sweep.yaml",
        "train.py",
        "hypersweep.db",
        "hypersweep.db-wal",
        "hypersweep.db-shm",
        "hypersweep.db.lock",
        "artifacts/1/model.pt",
        ".git/config",
        ".venv/bin/python",
        "pkg/__pycache__/m.cpython-311.pyc",
        "pkg/m.py",
        "data/big.bin",
        "data/keep.csv",
        "data/drop.csv",
        "notes/a.txt",
    )
    (d / ".hypersweepignore").write_text(
        "# leave data out, but keep one file of it\ndata/*\n!data/keep.csv\nnotes/\n"
        # a user cannot ship the store back in
        "!hypersweep.db\n!artifacts/\n"
    )
    return d


def test_the_store_its_sidecars_the_artifacts_and_default_folders_are_never_shipped(tmp_path):
    d = _folder(tmp_path)
    plan = plan_shipping(d, sqlite_files(f"sqlite:///{d}/hypersweep.db"), [d / "artifacts"])
    assert sorted(plan.shipped()) == [
        ".hypersweepignore",
        "data/keep.csv",
        "pkg/m.py",
        "sweep.yaml",
        "train.py",
    ]
    assert plan.warnings == []


def test_the_store_is_found_through_a_relative_url_and_a_symlinked_folder(tmp_path, monkeypatch):
    d = _folder(tmp_path)
    (tmp_path / "link").symlink_to(d)
    monkeypatch.chdir(tmp_path / "link")
    plan = plan_shipping(tmp_path / "link", sqlite_files("sqlite:///hypersweep.db?busy_timeout=5"), [])
    shipped = set(plan.shipped())
    assert not shipped & {"hypersweep.db", "hypersweep.db-wal", "hypersweep.db-shm", "hypersweep.db.lock"}
    # without the artifact root, its folder is the user's to ship
    assert "artifacts/1/model.pt" in shipped


def test_sqlite_files_of_server_and_memory_stores_are_none():
    assert sqlite_files("postgresql+psycopg://u:p@h/db") == []
    assert sqlite_files("sqlite://") == []
    assert sqlite_files("sqlite:///:memory:") == []
    assert [p.name for p in sqlite_files("sqlite:////abs/x.db")] == [
        "x.db",
        "x.db-wal",
        "x.db-shm",
        "x.db-journal",
        "x.db.lock",
    ]


def test_secret_looking_and_large_files_are_shipped_with_a_warning(tmp_path):
    d = tmp_path / "s"
    _touch(d, "train.py", ".env", "keys/id_rsa")
    with (d / "big.npy").open("wb") as f:
        f.truncate(LARGE_FILE_BYTES)
    plan = plan_shipping(d)
    assert {".env", "keys/id_rsa", "big.npy", "train.py"} <= set(plan.shipped())
    assert len(plan.warnings) == 2
    assert (
        ".env" in plan.warnings[0]
        and "keys/id_rsa" in plan.warnings[0]
        and ".hypersweepignore" in plan.warnings[0]
    )
    assert "big.npy" in plan.warnings[1]
    with pytest.warns(UserWarning) as caught:
        working_dir_env(str(d))
    assert [str(w.message) for w in caught] == plan.warnings
    (d / ".hypersweepignore").write_text(".env\nkeys/\nbig.npy\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = working_dir_env(str(d))
    assert env["working_dir"] == str(d.resolve())


def test_ray_applies_the_excludes_as_computed(tmp_path):
    """Ray's own packer, given the runtime env, zips exactly what the plan ships."""
    import zipfile

    from ray._private.runtime_env.packaging import _zip_files

    d = _folder(tmp_path)
    env = working_dir_env(str(d), f"sqlite:///{d}/hypersweep.db", str(d / "artifacts"))
    out = tmp_path / "pkg.zip"
    _zip_files(str(d), env["excludes"], str(out), include_gitignore=True)
    with zipfile.ZipFile(out) as z:
        names = sorted(n for n in z.namelist() if not n.endswith("/"))
    assert names == sorted(
        plan_shipping(d, sqlite_files(f"sqlite:///{d}/hypersweep.db"), [d / "artifacts"]).shipped()
    )
