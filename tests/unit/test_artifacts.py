"""Artifact storage with local roots: upload, verified download, corruption, checkpoints, default root."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import pytest

from hypersweep import artifacts as art
from hypersweep.artifacts import default_root
from hypersweep.errors import ArtifactIntegrityError, UsageError
from hypersweep.query import best_trial, download_artifacts, list_artifacts
from hypersweep.records import ArtifactRecord, Direction, NewStudy, NewTrial, TrialOutcome, TrialState
from hypersweep.store import open_store
from hypersweep.trial._artifacts import checkpoint, restore_checkpoint
from hypersweep.trial._context import TrialContext, TrialInfo, reset_context, set_context


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def files(tmp_path):
    src = tmp_path / "src"
    (src / "model" / "sub").mkdir(parents=True)
    (src / "metrics.json").write_bytes(b'{"acc": 0.9}')
    (src / "model" / "weights.bin").write_bytes(os.urandom(3 * (1 << 20) + 17))  # spans chunks
    (src / "model" / "sub" / "config.txt").write_bytes(b"layers=3\n")
    return src


# -- names, collect_dir ----------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["", "/etc/passwd", "../x", "a/../../b", "./", "\\..\\x"])
def test_check_name_rejects_escapes(bad):
    with pytest.raises(ValueError, match="invalid artifact name"):
        art.check_name(bad)


def test_check_name_normalises():
    assert art.check_name("./a//b/./c.txt") == "a/b/c.txt"
    assert art.check_name("a\\b") == "a/b"


def test_collect_dir(files, tmp_path):
    got = art.collect_dir(files)
    assert [n for n, _ in got] == ["metrics.json", "model/sub/config.txt", "model/weights.bin"]
    assert all(os.path.isabs(p) and os.path.isfile(p) for _, p in got)
    assert art.collect_dir(tmp_path / "missing") == []
    (tmp_path / "empty").mkdir()
    assert art.collect_dir(tmp_path / "empty") == []


def test_collect_dir_skips_symlinked_folders_and_broken_links(files, tmp_path):
    os.symlink(files / "model", files / "link-to-model")
    os.symlink(tmp_path / "nowhere", files / "broken")
    os.symlink(files / "metrics.json", files / "alias.json")
    names = [n for n, _ in art.collect_dir(files)]
    assert "alias.json" in names
    assert not any(n.startswith("link-to-model") or n == "broken" for n in names)


# -- upload ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("as_url", [False, True])
def test_upload_files_and_folders(files, tmp_path, as_url):
    root = tmp_path / "root"
    root_arg = f"file://{root}" if as_url else str(root)
    recs = art.upload(
        root_arg, "study-a", "7", [("metrics.json", files / "metrics.json"), ("model", files / "model")]
    )
    assert [r.name for r in recs] == ["metrics.json", "model/sub/config.txt", "model/weights.bin"]
    for r in recs:
        assert r.kind == "file"
        assert r.uri.startswith("file://")
        stored = root / "study-a" / "7" / r.name
        assert r.uri == f"file://{stored}"
        data = stored.read_bytes()
        assert r.size == len(data) and r.sha256 == sha(data)
        assert data == (files / r.name).read_bytes() if r.name == "metrics.json" else True
    assert (root / "study-a" / "7" / "model" / "weights.bin").read_bytes() == (
        files / "model" / "weights.bin"
    ).read_bytes()


def test_upload_last_name_wins(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("first")
    b.write_text("second")
    recs = art.upload(str(tmp_path / "root"), "s", "0", [("out.txt", a), ("out.txt", b)])
    assert len(recs) == 1 and recs[0].sha256 == sha(b"second")
    assert (tmp_path / "root" / "s" / "0" / "out.txt").read_text() == "second"


def test_upload_missing_file_raises_or_is_reported(tmp_path):
    ok = tmp_path / "ok.txt"
    ok.write_text("ok")
    files = [("gone.txt", tmp_path / "gone.txt"), ("../evil", ok), ("ok.txt", ok)]
    with pytest.raises(ValueError):
        art.upload(str(tmp_path / "root"), "s", "0", files)
    with pytest.raises(FileNotFoundError):
        art.upload(str(tmp_path / "root"), "s", "0", [files[0]])
    problems: list[str] = []
    recs = art.upload(str(tmp_path / "root"), "s", "1", files, problems=problems)
    assert [r.name for r in recs] == ["ok.txt"]
    assert len(problems) == 2
    assert any("gone.txt" in p for p in problems) and any("invalid artifact name" in p for p in problems)


def test_read_files_and_upload_blobs_match_upload(files, tmp_path):
    entries = [("model", files / "model"), ("metrics.json", files / "metrics.json")]
    direct = art.upload(str(tmp_path / "r1"), "s", "0", entries)
    blobs = art.read_files(entries)
    via = art.upload_blobs(str(tmp_path / "r2"), "s", "0", blobs)
    assert [(r.name, r.size, r.sha256) for r in direct] == [(r.name, r.size, r.sha256) for r in via]


def test_record_from_json_round_trip(tmp_path):
    f = tmp_path / "x"
    f.write_text("x")
    (rec,) = art.upload(str(tmp_path / "root"), "s", "0", [("x", f)], kind="checkpoint")
    from dataclasses import asdict

    assert art.record_from_json(json.loads(json.dumps(asdict(rec)))) == rec


# -- fetch and corruption ----------------------------------------------------------------------------------
def test_fetch_verifies_and_detects_corruption(files, tmp_path):
    (rec,) = art.upload(str(tmp_path / "root"), "s", "0", [("metrics.json", files / "metrics.json")])
    out = art.fetch(rec.uri, tmp_path / "dl" / "m.json", sha256=rec.sha256, size=rec.size, label=rec.name)
    assert out.read_bytes() == (files / "metrics.json").read_bytes()

    stored = tmp_path / "root" / "s" / "0" / "metrics.json"
    stored.write_bytes(b'{"acc": 0.1}')  # same size, other bytes
    with pytest.raises(ArtifactIntegrityError, match=r"artifact metrics.json: sha256 mismatch"):
        art.fetch(rec.uri, tmp_path / "dl2" / "m.json", sha256=rec.sha256, size=rec.size, label=rec.name)
    assert not (tmp_path / "dl2" / "m.json").exists()
    assert not (tmp_path / "dl2" / "m.json.part").exists()

    stored.unlink()
    with pytest.raises(ArtifactIntegrityError, match="is missing from the artifact root"):
        art.fetch(rec.uri, tmp_path / "dl3" / "m.json", sha256=rec.sha256)


def test_fetch_does_not_replace_a_good_file_with_a_bad_one(files, tmp_path):
    (rec,) = art.upload(str(tmp_path / "root"), "s", "0", [("metrics.json", files / "metrics.json")])
    good = art.fetch(rec.uri, tmp_path / "dl" / "m.json", sha256=rec.sha256)
    (tmp_path / "root" / "s" / "0" / "metrics.json").write_bytes(b"truncated")
    with pytest.raises(ArtifactIntegrityError, match="sha256 mismatch"):
        art.fetch(rec.uri, good, sha256=rec.sha256, size=rec.size)
    assert good.read_bytes() == (files / "metrics.json").read_bytes()


# -- store round trip: list, download, best -------------------------------------------------------------
@pytest.fixture
def store(tmp_path):
    st = open_store(f"sqlite:///{tmp_path / 'hs.db'}", create=True)
    yield st
    st.close()


def _study(st, name="s"):
    return st.create_study(
        NewStudy(
            name=name,
            spec_text=f"name: {name}\n",
            spec_hash="0" * 64,
            spec_format="native",
            strategy="grid",
            objective_metric="acc",
            direction=Direction.MAXIMIZE,
            budget_trials=2,
            seed=1,
            workdir="/tmp",
        )
    )


def _finish(st, study, objective, artifacts):
    (t,) = st.create_trials(study.study_id, [NewTrial(params={"lr": objective}, seed=1)])
    st.finish_trials(
        [
            TrialOutcome(
                trial_id=t.trial_id,
                state=TrialState.COMPLETE,
                metrics={"acc": objective},
                objective=objective,
                artifacts=tuple(artifacts),
            )
        ]
    )
    return t


def test_list_and_download_verified(store, files, tmp_path):
    study = _study(store)
    recs = art.upload(
        str(tmp_path / "root"),
        "s",
        "0",
        [("model", files / "model"), ("metrics.json", files / "metrics.json")],
    )
    ckpt = tmp_path / "ck.bin"
    ckpt.write_bytes(b"state")
    ck_recs = art.save_checkpoint(str(tmp_path / "root"), "s", {"lr": 0.1}, "0", ckpt)
    t = _finish(store, study, 0.5, recs + ck_recs)
    assert list_artifacts(store, "s", t.number) == recs + ck_recs

    paths = download_artifacts(store, "s", t.number, tmp_path / "dl")
    assert sorted(p.relative_to(tmp_path / "dl").as_posix() for p in paths) == sorted(r.name for r in recs)
    for r in recs:
        assert sha((tmp_path / "dl" / r.name).read_bytes()) == r.sha256

    every = download_artifacts(store, "s", t.number, tmp_path / "all", kinds=None)
    assert len(every) == len(recs) + len(ck_recs)
    only_ck = download_artifacts(store, "s", t.number, tmp_path / "ck", kinds=("checkpoint",))
    assert [p.read_bytes() for p in only_ck] == [b"state"]


def test_download_detects_corruption_and_keeps_the_good_ones(store, files, tmp_path):
    study = _study(store)
    recs = art.upload(
        str(tmp_path / "root"),
        "s",
        "0",
        [("model", files / "model"), ("metrics.json", files / "metrics.json")],
    )
    t = _finish(store, study, 0.5, recs)
    victim = tmp_path / "root" / "s" / "0" / "model" / "weights.bin"
    data = bytearray(victim.read_bytes())
    data[1000] ^= 0xFF  # one flipped bit, same size
    victim.write_bytes(bytes(data))
    with pytest.raises(ArtifactIntegrityError) as e:
        download_artifacts(store, "s", t.number, tmp_path / "dl")
    msg = str(e.value)
    assert "1 artifact(s) of s #0 failed verification" in msg
    assert "model/weights.bin: sha256 mismatch" in msg
    assert not (tmp_path / "dl" / "model" / "weights.bin").exists()
    assert (tmp_path / "dl" / "metrics.json").exists()
    assert (tmp_path / "dl" / "model" / "sub" / "config.txt").exists()


def test_best_trial_with_artifacts(store, files, tmp_path):
    study = _study(store)
    root = str(tmp_path / "root")
    worse = _finish(store, study, 0.3, art.upload(root, "s", "0", [("m.json", files / "metrics.json")]))
    recs = art.upload(root, "s", "1", [("model", files / "model")])
    best = _finish(store, study, 0.9, recs)
    assert worse.number != best.number
    row = best_trial(store, "s")
    assert row["number"] == best.number and row["objective"] == 0.9
    assert [a["name"] for a in row["artifacts"]] == [r.name for r in recs]
    row = best_trial(store, "s", download=tmp_path / "best")
    assert sorted(Path(p).name for p in row["downloaded"]) == ["config.txt", "weights.bin"]


def test_best_trial_without_complete_trial(store):
    _study(store, "empty")
    with pytest.raises(UsageError, match="no complete trial"):
        best_trial(store, "empty")


# -- checkpoints -----------------------------------------------------------------------------------------
def test_params_hash_nested_equals_flat():
    assert art.params_hash({"opt": {"lr": 0.1}, "n": 3}) == art.params_hash({"n": 3, "opt.lr": 0.1})
    assert art.params_hash({"lr": 0.1}) != art.params_hash({"lr": 0.2})


def test_checkpoint_sequence_restore_and_dedupe(tmp_path):
    root, params = str(tmp_path / "root"), {"lr": 0.1}
    assert art.restore(root, "s", params) is None
    ck = tmp_path / "ck"
    ck.mkdir()
    (ck / "state.pt").write_bytes(b"epoch 1")
    r1 = art.save_checkpoint(root, "s", params, "3", ck)
    assert [r.name for r in r1] == ["checkpoints/000001-3/state.pt"] and r1[0].kind == "checkpoint"
    assert art.save_checkpoint(root, "s", params, "3", ck) == []  # unchanged: not stored again
    (ck / "state.pt").write_bytes(b"epoch 2")
    (ck / "opt").mkdir()
    (ck / "opt" / "adam.pt").write_bytes(b"moments")
    r2 = art.save_checkpoint(root, "s", params, "3", ck)
    assert {r.name for r in r2} == {"checkpoints/000002-3/state.pt", "checkpoints/000002-3/opt/adam.pt"}

    got = art.restore(root, "s", params, tmp_path / "restored")
    assert got == tmp_path / "restored"
    assert (got / "state.pt").read_bytes() == b"epoch 2" and (
        got / "opt" / "adam.pt"
    ).read_bytes() == b"moments"
    assert art.latest_checkpoint(root, "s", params)["seq"] == 2
    assert art.restore(root, "s", {"lr": 0.2}) is None  # other params: nothing


def test_file_checkpoint_restores_as_a_file(tmp_path):
    root, params = str(tmp_path / "root"), {"lr": 0.1}
    f = tmp_path / "model.ckpt"
    f.write_bytes(b"weights")
    art.save_checkpoint(root, "s", params, "0", f)
    got = art.restore(root, "s", params)
    assert got is not None and got.name == "model.ckpt" and got.read_bytes() == b"weights"


def test_checkpoint_without_manifest_is_ignored(tmp_path):
    root, params = str(tmp_path / "root"), {"lr": 0.1}
    f = tmp_path / "model.ckpt"
    f.write_bytes(b"v1")
    art.save_checkpoint(root, "s", params, "0", f)
    # a checkpoint cut off before its manifest was written (the worker died halfway)
    base = tmp_path / "root" / "s" / "checkpoints" / art.params_hash(params)
    (base / "000002-1").mkdir()
    (base / "000002-1" / "model.ckpt").write_bytes(b"half")
    got = art.restore(root, "s", params)
    assert got.read_bytes() == b"v1"
    f.write_bytes(b"v3")
    recs = art.save_checkpoint(root, "s", params, "1", f)  # numbering skips the broken folder
    assert recs[0].name == "checkpoints/000003-1/model.ckpt"
    assert art.restore(root, "s", params).read_bytes() == b"v3"


def test_damaged_checkpoint_falls_back_to_an_older_one(tmp_path):
    root, params = str(tmp_path / "root"), {"lr": 0.1}
    ck = tmp_path / "ck"
    ck.mkdir()
    (ck / "a").write_bytes(b"old-a")
    (ck / "z").write_bytes(b"old-z")
    art.save_checkpoint(root, "s", params, "0", ck)
    (ck / "a").write_bytes(b"new-a")
    (ck / "z").write_bytes(b"new-z")
    (ck / "only-new").write_bytes(b"x")
    (rec, *_) = art.save_checkpoint(root, "s", params, "0", ck)
    base = tmp_path / "root" / "s" / "checkpoints" / art.params_hash(params)
    (base / "000002-0" / "z").write_bytes(b"bad-z")
    with pytest.warns(UserWarning, match="sha256 mismatch"):
        got = art.restore(root, "s", params, tmp_path / "out")
    assert (got / "a").read_bytes() == b"old-a" and (got / "z").read_bytes() == b"old-z"
    assert not (got / "only-new").exists()  # nothing of the damaged checkpoint is left behind
    (base / "000001-0" / "a").write_bytes(b"bad-a")
    with pytest.warns(UserWarning), pytest.raises(ArtifactIntegrityError, match="every checkpoint"):
        art.restore(root, "s", params, tmp_path / "out2")


def test_restore_into_and_save_checkpoint_dir(tmp_path):
    """The command-trial hooks: restore before the process starts, save what it left after."""
    root, params = str(tmp_path / "root"), {"lr": 0.1}
    ckdir = tmp_path / "ckdir"
    ckdir.mkdir()
    assert art.restore_into(root, "s", params, ckdir) is False
    assert art.save_checkpoint_dir(root, "s", params, "0", ckdir) == []  # empty: nothing
    assert art.save_checkpoint_dir(root, "s", params, "0", tmp_path / "missing") == []
    (ckdir / "step.txt").write_text("10")
    assert len(art.save_checkpoint_dir(root, "s", params, "0", ckdir)) == 1

    ckdir2 = tmp_path / "ckdir2"  # the rerun (trial 4) of the same params
    ckdir2.mkdir()
    assert art.restore_into(root, "s", params, ckdir2) is True
    assert (ckdir2 / "step.txt").read_text() == "10"
    assert art.save_checkpoint_dir(root, "s", params, "4", ckdir2) == []  # unchanged since restore
    (ckdir2 / "step.txt").write_text("20")
    assert [r.name for r in art.save_checkpoint_dir(root, "s", params, "4", ckdir2)] == [
        "checkpoints/000002-4/step.txt"
    ]


# -- the trial-side API through a TrialContext -----------------------------------------------------------
def _ctx(root, number=5, params=None):
    info = TrialInfo(study="s", number=number, params=params or {"opt": {"lr": 0.1}}, seed=1)
    ctx = TrialContext(info=info, push=None, sync=False)
    ctx.artifact_root = root
    ctx.trial_key = str(number) if number is not None else "rerun-9"
    return ctx


def test_checkpoint_and_restore_in_a_function_trial(tmp_path):
    import hypersweep.trial._artifacts as api_mod

    root = str(tmp_path / "root")
    state = tmp_path / "state.json"
    state.write_text('{"epoch": 3}')
    ctx = _ctx(root)
    token = set_context(ctx)
    try:
        assert api_mod.restore_checkpoint() is None  # first run: nothing yet
        recs = api_mod.checkpoint(state)
        assert [r.kind for r in recs] == ["checkpoint"]
        assert list(ctx.uploaded) == recs  # travels back with the result
    finally:
        reset_context(token)

    # the interrupted trial's params run again as trial 8: it finds the checkpoint
    ctx2 = _ctx(root, number=8, params={"opt.lr": 0.1})
    token = set_context(ctx2)
    try:
        got = api_mod.restore_checkpoint()
        assert got is not None and json.loads(got.read_text()) == {"epoch": 3}
        got2 = api_mod.restore_checkpoint(tmp_path / "mine")
        assert got2 == tmp_path / "mine" / "state.json"
    finally:
        reset_context(token)


def test_checkpoint_without_root_and_outside_a_sweep(tmp_path, monkeypatch):
    from hypersweep.trial import _context

    monkeypatch.setattr(_context, "_warned", set())
    for var in ("HYPERSWEEP_TRIAL_NUMBER", "HYPERSWEEP_ARTIFACT_ROOT", "HYPERSWEEP_CHECKPOINT_DIR"):
        monkeypatch.delenv(var, raising=False)
    f = tmp_path / "x"
    f.write_text("x")
    with pytest.warns(UserWarning, match=r"hypersweep.checkpoint\(\) called outside a sweep"):
        assert checkpoint(f) == []
    with pytest.warns(UserWarning, match=r"restore_checkpoint\(\) called outside a sweep"):
        assert restore_checkpoint() is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once only
        assert checkpoint(f) == []
        assert restore_checkpoint() is None
    with pytest.raises(FileNotFoundError):
        checkpoint(tmp_path / "missing")


def test_checkpoint_in_a_command_trial(tmp_path, monkeypatch, capsys):
    """A command trial's process: uploads at once, tells the runner, mirrors into the checkpoint dir."""
    root = str(tmp_path / "root")
    ckdir = tmp_path / "ckdir"
    ckdir.mkdir()
    (ckdir / "stale.txt").write_text("restored earlier")
    monkeypatch.setenv("HYPERSWEEP_TRIAL_NUMBER", "2")
    monkeypatch.setenv("HYPERSWEEP_STUDY", "s")
    monkeypatch.setenv("HYPERSWEEP_PARAMS", json.dumps({"lr": 0.5}))
    monkeypatch.setenv("HYPERSWEEP_ARTIFACT_ROOT", root)
    monkeypatch.setenv("HYPERSWEEP_CHECKPOINT_DIR", str(ckdir))
    src = tmp_path / "model.bin"
    src.write_bytes(b"w")
    recs = checkpoint(src)
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [art.record_from_json(r) for r in line["hypersweep_checkpoint"]] == recs
    assert recs[0].name == "checkpoints/000001-2/model.bin"
    assert sorted(p.name for p in ckdir.iterdir()) == ["model.bin"]
    # what the runner does after the process ends: the dir equals the newest checkpoint, nothing new
    assert art.save_checkpoint_dir(root, "s", {"lr": 0.5}, "2", ckdir) == []
    got = restore_checkpoint()
    assert got.name == "model.bin" and got.read_bytes() == b"w"


def test_checkpoint_in_a_command_trial_without_root(tmp_path, monkeypatch):
    ckdir = tmp_path / "ckdir"
    monkeypatch.setenv("HYPERSWEEP_TRIAL_NUMBER", "2")
    monkeypatch.delenv("HYPERSWEEP_ARTIFACT_ROOT", raising=False)
    monkeypatch.setenv("HYPERSWEEP_CHECKPOINT_DIR", str(ckdir))
    src = tmp_path / "state"
    src.mkdir()
    (src / "a.txt").write_text("a")
    assert checkpoint(src) == []
    assert (ckdir / "a.txt").read_text() == "a"
    assert restore_checkpoint() == ckdir


# -- default root ------------------------------------------------------------------------------------------
def test_default_root_beside_sqlite(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert default_root(f"sqlite:///{tmp_path}/x/hs.db", None, None) == (
        str(tmp_path / "x" / "artifacts"),
        None,
    )
    assert default_root("sqlite:///hs.db", None, None) == (str(tmp_path / "artifacts"), None)
    assert default_root("sqlite+pysqlite:///sub/hs.db?timeout=5", None, None) == (
        str(tmp_path / "sub" / "artifacts"),
        None,
    )


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://u:p@db.example/hs", "mysql://h/db", "sqlite://", "sqlite:///:memory:"]
)
def test_default_root_for_a_server_warns(tmp_path, monkeypatch, url):
    monkeypatch.chdir(tmp_path)
    root, warning = default_root(url, None, None)
    assert root == str(tmp_path / "hypersweep-artifacts")
    assert warning and "--artifact-root" in warning and "p@" not in warning


def test_default_root_overrides(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pg = "postgresql://db/hs"
    assert default_root(pg, "s3://bucket/team/", None) == ("s3://bucket/team", None)
    assert default_root(pg, "s3://bucket/team", "gs://other/x") == ("gs://other/x", None)
    assert default_root(pg, None, "out") == (str(tmp_path / "out"), None)
    assert default_root(pg, "rel", None, spec_dir="/sweeps") == ("/sweeps/rel", None)
    assert default_root(pg, f"file://{tmp_path}/a/../b", None) == (str(tmp_path / "b"), None)
    assert default_root(pg, "~/arts", None) == (os.path.expanduser("~/arts"), None)


# -- forged records: the driver keeps only the trial's own blobs, downloads read only inside the root ---
def _secret(tmp_path):
    secret = tmp_path / "host" / "shadow"
    secret.parent.mkdir()
    secret.write_bytes(b"root:$6$very-secret-hash:19000:0:99999:7:::\n")
    return secret, len(secret.read_bytes()), sha(secret.read_bytes())


def test_records_outside_the_trials_own_blobs_are_refused(files, tmp_path):
    from hypersweep.engine import outcome_from_result
    from hypersweep.trial import TrialRunResult

    root = str(tmp_path / "root")
    params = {"lr": 0.1}
    own = art.upload(root, "s", "3", [("metrics.json", files / "metrics.json")])
    ck = tmp_path / "ck.bin"
    ck.write_bytes(b"state")
    own_ck = art.save_checkpoint(root, "s", params, "3", ck)
    secret, size, digest = _secret(tmp_path)
    others = art.upload(root, "s", "4", [("metrics.json", files / "metrics.json")])  # another trial's
    other_params = art.save_checkpoint(root, "s", {"lr": 0.2}, "3", ck)  # other params' folder
    forged = [
        ArtifactRecord("shadow", str(secret), size, digest, "checkpoint"),
        ArtifactRecord("shadow", f"file://{secret}", size, digest, "file"),
        ArtifactRecord("../4/metrics.json", own[0].uri.replace("/3/", "/4/"), 1, digest, "file"),
        ArtifactRecord("metrics.json", f"{own[0].uri}/../../4/metrics.json", 1, digest, "file"),
        ArtifactRecord("checkpoints/000001-3/ck.bin", str(secret), size, digest, "checkpoint"),
        *others,
        *other_params,
    ]
    scope = art.trial_scope(root, "s", "3", params)
    refused: list[str] = []
    assert art.accepted_records([*own, *own_ck, *forged], scope, refused) == (*own, *own_ck)
    assert len(refused) == len(forged)
    assert art.accepted_records(own, None) == ()  # no root: no records

    # the driver: where a result becomes an outcome
    r = TrialRunResult(state="complete", artifact_records=[*own, *forged, *own_ck], artifact_scope=scope)
    out = outcome_from_result(1, r, {}, None)
    assert out.artifacts == (*own, *own_ck)


def test_a_command_trials_checkpoint_records_pass_the_drivers_check(tmp_path, monkeypatch, capsys):
    root = tmp_path / "root"
    monkeypatch.setenv("HYPERSWEEP_TRIAL_NUMBER", "3")
    monkeypatch.setenv("HYPERSWEEP_ARTIFACT_ROOT", str(root))
    monkeypatch.setenv("HYPERSWEEP_STUDY", "s")
    monkeypatch.setenv("HYPERSWEEP_TRIAL_KEY", "3")
    monkeypatch.setenv("HYPERSWEEP_PARAMS", json.dumps({"opt": {"lr": 0.1}, "depth": 2}))
    (tmp_path / "ck.bin").write_bytes(b"state")
    recs = checkpoint(tmp_path / "ck.bin")
    assert recs
    scope = art.trial_scope(str(root), "s", "3", {"opt.lr": 0.1, "depth": 2})  # the driver's flat params
    assert art.accepted_records(recs, scope) == tuple(recs)


def test_download_refuses_uris_outside_the_root_and_reveals_nothing(store, files, tmp_path):
    study = _study(store)
    root = tmp_path / "root"
    good = art.upload(str(root), "s", "0", [("metrics.json", files / "metrics.json")])
    secret, size, digest = _secret(tmp_path)
    inside = root / "s" / "0" / "link"
    os.symlink(secret, inside)  # a symlink planted in the root that leads out of it
    forged = [
        ArtifactRecord("shadow", str(secret), size + 1, "0" * 64, "file"),
        ArtifactRecord("shadow", f"file://{secret}", size + 1, "0" * 64, "file"),
        ArtifactRecord("link", f"file://{inside}", size + 1, "0" * 64, "file"),
        ArtifactRecord(
            "metrics.json", f"file://{root}/s/0/../../../host/s/0/metrics.json", 1, "0" * 64, "file"
        ),
    ]
    t = _finish(store, study, 0.5, good + forged)
    with pytest.raises(ArtifactIntegrityError) as e:
        download_artifacts(store, "s", t.number, tmp_path / "dl")
    msg = str(e.value)
    assert "4 artifact(s) of s #0 failed verification (1 downloaded" in msg
    assert msg.count("refused") == 4 and "nothing was read" in msg
    assert digest not in msg and f"({size} bytes)" not in msg  # nothing about the file itself
    assert sorted(p.name for p in (tmp_path / "dl").iterdir()) == ["metrics.json"]
    # with the root given, the same: only URIs inside it
    with pytest.raises(ArtifactIntegrityError, match="4 artifact"):
        download_artifacts(store, "s", t.number, tmp_path / "dl2", artifact_root=str(root))


def test_fetch_with_a_root_refuses_before_opening(tmp_path):
    secret, size, digest = _secret(tmp_path)
    with pytest.raises(ArtifactIntegrityError, match="refused") as e:
        art.fetch(str(secret), tmp_path / "out", sha256="0" * 64, size=1, root=str(tmp_path / "root"))
    assert digest not in str(e.value) and not (tmp_path / "out").exists()
    assert art.download_refusal("s3://bucket/x/s/0/a", str(tmp_path / "root")) is not None
