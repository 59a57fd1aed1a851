"""Study management: tag, note, rename, delete; rename/delete refused while a driver holds the study."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hypersweep.errors import StudyExistsError, StudyLockedError, SweepNotFoundError
from hypersweep.orchestrate import run_sweep
from hypersweep.query import delete_study, note_study, rename_study, tag_study
from hypersweep.store import opened

ENV = dict(os.environ, RAY_AUTH_MODE="disabled")
SPEC = """
    name: {name}
    objective: {{metric: loss, goal: minimize}}
    strategy: grid
    trial: {{function: "fns:quadratic"}}
    parameters:
      x: {{type: categorical, values: [1.0, 2.0, 3.0]}}
"""


def test_tag_note_rename_delete(make_sweep, store_url):
    run_sweep(make_sweep(SPEC.format(name="a"), "a.yaml"), store=store_url, executor="local")
    run_sweep(make_sweep(SPEC.format(name="b"), "b.yaml"), store=store_url, executor="local")
    with opened(store_url) as st:
        assert tag_study(st, "a", {"team": "vision", "owner": "me"}).tags == {"team": "vision", "owner": "me"}
        assert tag_study(st, "a", {"owner": None}).tags == {"team": "vision"}  # KEY= removes
        assert note_study(st, "a", "baseline for the paper").notes == "baseline for the paper"
        with pytest.raises(StudyExistsError):
            rename_study(st, "a", "b")
        renamed = rename_study(st, "a", "a2")
        assert renamed.name == "a2" and renamed.tags == {"team": "vision"}
        assert len(st.get_trials(renamed.study_id)) == 3  # its trials went with it
        with pytest.raises(SweepNotFoundError):
            st.get_study("a")
        assert delete_study(st, "b") == 3
        with pytest.raises(SweepNotFoundError):
            st.get_study("b")
        assert [s.name for s in st.list_studies()] == ["a2"]
    p = subprocess.run(
        [sys.executable, "-m", "hypersweep.cli", "delete", "a2", "--store", store_url],
        input="n\n",
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert p.returncode == 130  # not confirmed: nothing deleted
    with opened(store_url) as st:
        assert st.get_study("a2")
    p = subprocess.run(
        [sys.executable, "-m", "hypersweep.cli", "tag", "a2", "k=v", "--store", store_url],
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert p.returncode == 0 and "k=v" in p.stderr


def test_rename_and_delete_are_refused_while_a_driver_holds_the_lease(make_sweep, store_url):
    run_sweep(make_sweep(SPEC.format(name="live"), "live.yaml"), store=store_url, executor="local")
    with opened(store_url) as st:
        study = st.get_study("live")
        # a live driver on another host: its lease holds until it expires
        st.acquire_lease(study.study_id, "other-driver", "gpu-box-7", 4242)
        with pytest.raises(StudyLockedError, match="gpu-box-7"):
            rename_study(st, "live", "dead")
        with pytest.raises(StudyLockedError, match="4242"):
            delete_study(st, "live")
        assert note_study(st, "live", "notes are fine while it runs").notes
    p = subprocess.run(
        [sys.executable, "-m", "hypersweep.cli", "delete", "live", "--yes", "--store", store_url],
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert p.returncode == 2 and "hypersweep stop live" in p.stderr
