"""Read-only SQLite stores: readers read them (a read-only mount, file or folder, or ``?mode=ro``);
writers get a ``StoreReadOnlyError`` naming the path, never an ``OSError`` or "unable to open database
file".

As root, permissions do not stop writes, so the read-only case is a read-only mount (tmpfs remounted
``ro``); other users get a folder and file without write permission."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hypersweep.errors import StoreReadOnlyError
from hypersweep.records import NewTrial, TrialOutcome, TrialState
from hypersweep.store import open_store, upgrade_store

from .conftest import new_study


def _mount_ro(folder: Path, files: list[Path]) -> bool:
    def run(*argv: str) -> bool:
        return subprocess.run(list(argv), capture_output=True).returncode == 0

    if shutil.which("mount") is None or not run("mount", "-t", "tmpfs", "none", str(folder)):
        return False
    for f in files:
        shutil.copy(f, folder / f.name)
    if not run("mount", "-o", "remount,ro", str(folder)):
        run("umount", str(folder))
        return False
    return True


@pytest.fixture
def read_only_store(tmp_path: Path) -> Iterator[Path]:
    """A store with one study (one complete trial) in a folder this process cannot write."""
    src = tmp_path / "src" / "hs.db"
    src.parent.mkdir()
    with open_store(f"sqlite:///{src}", create=True) as st:
        sid = st.create_study(new_study()).study_id
        (t,) = st.create_trials(sid, [NewTrial(params={"C": 1.0}, seed=1)])
        st.finish_trials([TrialOutcome(t.trial_id, TrialState.COMPLETE, objective=0.9)])
    assert not src.with_name("hs.db-wal").exists()  # checkpointed at close: the file is the store
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() == 0:
        if not _mount_ro(ro, [src]):
            pytest.skip("running as root without mount rights: no way to make a folder read-only")
        try:
            yield ro / "hs.db"
        finally:
            subprocess.run(["umount", str(ro)], check=False)
        return
    shutil.copy(src, ro / "hs.db")
    (ro / "hs.db").chmod(0o444)
    ro.chmod(0o555)
    try:
        yield ro / "hs.db"
    finally:
        ro.chmod(0o755)


@pytest.mark.parametrize("query", ["", "?mode=ro"])
def test_reads_from_a_read_only_store(read_only_store: Path, query: str) -> None:
    with open_store(f"sqlite:///{read_only_store}{query}") as st:
        study = st.get_study("digits-svc")
        trials = st.get_trials(study.study_id)
        assert [(t.state, t.objective) for t in trials] == [(TrialState.COMPLETE, 0.9)]
        assert [t.trial_id for t in st.top_trials([study.study_id])] == [trials[0].trial_id]
        with pytest.raises(StoreReadOnlyError):
            st.check_writable()
    assert sorted(p.name for p in read_only_store.parent.iterdir()) == ["hs.db"]


def test_writers_get_a_clear_error_naming_the_path(read_only_store: Path) -> None:
    url = f"sqlite:///{read_only_store}"
    with pytest.raises(StoreReadOnlyError, match="not writable"):
        upgrade_store(url)
    with pytest.raises(StoreReadOnlyError, match="not writable"):
        open_store(url, create=True)
    with pytest.raises(StoreReadOnlyError, match=str(read_only_store.parent)):
        open_store(f"sqlite:///{read_only_store.parent / 'sub' / 'new.db'}", create=True)


def test_mode_ro_on_a_writable_file_reads_and_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "hs.db"
    with open_store(f"sqlite:///{path}", create=True) as st:
        st.create_study(new_study())
    with open_store(f"sqlite:///{path}?mode=ro") as st:
        assert st.get_study("digits-svc").name == "digits-svc"
        with pytest.raises(StoreReadOnlyError):
            st.update_study(st.get_study("digits-svc").study_id, notes="x")
    with pytest.raises(StoreReadOnlyError, match="mode=ro"):
        open_store(f"sqlite:///{path}?mode=ro", create=True)
