"""The dashboard's routes through Starlette's TestClient, over a real SQLite store a real sweep filled."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest
from _uihelpers import SWEEP, TRIAL, run_cli
from starlette.testclient import TestClient

from hypersweep.errors import SchemaVersionError
from hypersweep.query import leaderboard_rows, objective_history, study_rows
from hypersweep.store import open_store
from hypersweep.ui import create_app, prepare

DATA = Path(__file__).parents[1] / "data" / "stores"


@pytest.fixture(scope="module")
def store_url(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("ui")
    (folder / "sweep.yaml").write_text(SWEEP)
    (folder / "trialfn.py").write_text(TRIAL)
    url = f"sqlite:///{folder / 'hs.db'}"
    p = run_cli("run", str(folder / "sweep.yaml"), "--store", url, "--executor", "local", "--quiet")
    assert p.returncode == 0, p.stderr
    return url


@pytest.fixture(scope="module")
def client(store_url):
    with TestClient(create_app(store_url)) as c:
        yield c


PAGES = [
    "/",
    "/?pattern=ui-*",
    "/studies/ui-grid",
    "/studies/ui-grid?sort=params.x&order=asc",
    "/studies/ui-grid/trials/0",
    "/compare",
    "/compare?t=ui-grid:0&t=ui-grid:5",
    "/leaderboard?pattern=ui-*",
]
API = [
    "/api/studies",
    "/api/studies/ui-grid",
    "/api/studies/ui-grid/leaderboard",
    "/api/studies/ui-grid/trials/1",
    "/api/studies/ui-grid/trials/1/history",
    "/api/studies/ui-grid/trials/1/log",
    "/api/studies/ui-grid/history",
    "/api/studies/ui-grid/curves",
    "/api/studies/ui-grid/timeline",
    "/api/studies/ui-grid/plots",
    "/api/compare?t=ui-grid:0&t=ui-grid:1",
]


@pytest.mark.parametrize("url", PAGES)
def test_every_page_renders(client, url):
    r = client.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html") and "</html>" in r.text


@pytest.mark.parametrize("url", API)
def test_every_api_route_answers_json(client, url):
    r = client.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    json.loads(r.text)


def test_the_api_mirrors_the_cli_json(client, store_url):
    with open_store(store_url) as st:
        assert client.get("/api/studies").json()[0]["trials_complete"] == study_rows(st)[0]["trials_complete"]
        want = leaderboard_rows(st, ["ui-grid"], top=3, where="params.kind = 'a'")
    got = client.get(
        "/api/studies/ui-grid/leaderboard", params={"top": 3, "where": "params.kind = 'a'"}
    ).json()
    assert got == json.loads(json.dumps(want, default=str))
    cli = json.loads(
        run_cli("leaderboard", "ui-grid", "--store", store_url, "--format", "json", "--top", "3").stdout
    )
    assert client.get("/api/studies/ui-grid/leaderboard?top=3").json() == cli


def test_the_study_page_lists_trials_with_test_hooks(client):
    html = client.get("/studies/ui-grid").text
    assert html.count('data-testid="trial-row"') == 6
    assert 'data-testid="complete-count">6<' in html
    assert 'href="/studies/ui-grid/trials/5"' in html  # the best trial (x=3, kind=b) comes first
    assert html.index("/trials/5") < html.index("/trials/0")


def test_a_filter_narrows_and_a_bad_filter_explains(client):
    html = client.get("/studies/ui-grid", params={"where": "params.kind = 'a'"}).text
    assert html.count('data-testid="trial-row"') == 3
    bad = client.get("/studies/ui-grid", params={"where": "params.x <"})
    assert bad.status_code == 200 and 'data-testid="filter-error"' in bad.text
    api = client.get("/api/studies/ui-grid/leaderboard", params={"where": "params.x <"})
    assert api.status_code == 400 and "error" in api.json()


def test_unknown_things_are_404_with_a_message(client):
    assert client.get("/studies/nope").status_code == 404
    r = client.get("/api/studies/nope/trials/3")
    assert r.status_code == 404 and "nope" in r.json()["error"]
    assert client.get("/api/studies/ui-grid/trials/99").status_code == 404
    assert client.get("/api/compare?t=bad").status_code == 400


def test_pages_are_paged_on_the_server(store_url, monkeypatch):
    from hypersweep.ui import _pages

    monkeypatch.setattr(_pages, "PAGE_SIZE", 4)
    with TestClient(create_app(store_url)) as c:
        first = c.get("/studies/ui-grid").text
        second = c.get("/studies/ui-grid?page=2").text
    assert first.count('data-testid="trial-row"') == 4 and 'data-testid="next-page"' in first
    assert second.count('data-testid="trial-row"') == 2 and 'data-testid="next-page"' not in second


def test_long_series_are_downsampled_and_say_so(store_url):
    with open_store(store_url) as st:
        h = objective_history(st, "ui-grid", max_points=3)
    assert h["total"] == 6 and h["downsampled"] is True and len(h["number"]) == 3
    assert h["number"][0] == 0 and h["number"][-1] == 5  # first and last kept
    assert h["best"][-1] == 3.5


def test_user_strings_are_escaped(tmp_path):
    folder = tmp_path
    (folder / "sweep.yaml").write_text(SWEEP.replace("name: ui-grid", "name: xss"))
    (folder / "trialfn.py").write_text(TRIAL)
    url = f"sqlite:///{folder / 'hs.db'}"
    assert (
        run_cli(
            "run",
            str(folder / "sweep.yaml"),
            "--store",
            url,
            "--executor",
            "local",
            "--quiet",
            "--trials",
            "1",
        ).returncode
        == 0
    )
    payload = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    assert run_cli("note", "xss", payload, "--store", url).returncode == 0
    assert run_cli("tag", "xss", f"k={payload}", "--store", url).returncode == 0
    with TestClient(create_app(url)) as c:
        for page in ("/", "/studies/xss"):
            html = c.get(page).text
            assert "<script>alert(" not in html and "<img src=x" not in html
            assert "&lt;script&gt;alert(" in html


def test_a_token_guards_every_request(store_url):
    with TestClient(create_app(store_url, token="s3cret"), follow_redirects=False) as c:
        assert c.get("/").status_code == 401
        assert c.get("/api/studies").status_code == 401
        assert c.get("/api/studies", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert c.get("/api/studies", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        r = c.get("/studies/ui-grid?token=s3cret&page=1")
        assert r.status_code == 303 and r.headers["location"] == "/studies/ui-grid?page=1"
        assert "httponly" in r.headers["set-cookie"].lower()
        assert c.get("/studies/ui-grid").status_code == 200  # the cookie now carries it


def test_a_non_loopback_bind_gets_a_token(store_url):
    served = prepare(store_url, host="0.0.0.0", port=0)
    assert "?token=" in served.url and any("not loopback" in n for n in served.notes)
    with TestClient(served.server.config.app) as c:
        assert c.get("/").status_code == 401


def test_a_busy_port_is_replaced_and_said(store_url):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        busy = s.getsockname()[1]
        served = prepare(store_url, port=busy)
    assert f":{busy}/" not in served.url and any(f"port {busy} is busy" in n for n in served.notes)


def test_actions_need_the_csrf_token_and_write_the_store(store_url):
    with TestClient(create_app(store_url), follow_redirects=False) as c:
        page = c.get("/studies/ui-grid").text
        assert 'data-testid="stop"' in page
        csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        assert c.post("/studies/ui-grid/tag", data={"key": "k", "value": "v"}).status_code == 403
        r = c.post("/studies/ui-grid/tag", data={"key": "k", "value": "v", "csrf": csrf})
        assert r.status_code == 303
        r = c.post("/studies/ui-grid/note", data={"text": "looks good", "csrf": csrf})
        assert r.status_code == 303
    with open_store(store_url) as st:
        study = st.get_study("ui-grid")
    assert study.tags.get("k") == "v" and study.notes == "looks good"


def test_read_only_offers_no_actions(store_url):
    with TestClient(create_app(store_url, read_only=True), follow_redirects=False) as c:
        page = c.get("/studies/ui-grid").text
        assert 'data-testid="stop"' not in page and "read-only" in page
        csrf = "x"
        r = c.post("/studies/ui-grid/note", data={"text": "no", "csrf": csrf})
        assert r.status_code == 400 and "read-only" in r.text


def test_an_old_store_asks_for_db_upgrade(tmp_path):
    old = tmp_path / "old.db"
    shutil.copy(DATA / "rev0001.db", old)
    with pytest.raises(SchemaVersionError, match="hypersweep db upgrade"):
        create_app(f"sqlite:///{old}")
    p = run_cli("ui", "--store", f"sqlite:///{old}")
    assert p.returncode == 3 and "db upgrade" in p.stderr


def test_plotly_js_is_served_locally(client):
    r = client.get("/static/plotly.min.js")
    assert r.status_code == 200 and len(r.content) > 1_000_000


def test_the_live_feed_sends_only_what_changed(tmp_path):
    """Nothing new: nothing sent. A trial going from running to complete: delivered once. One store poll
    per study per interval, whatever the number of pages."""
    from hypersweep.records import NewTrial, TrialOutcome, TrialState

    (tmp_path / "sweep.yaml").write_text(SWEEP.replace("name: ui-grid", "name: feed"))
    (tmp_path / "trialfn.py").write_text(TRIAL)
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    assert (
        run_cli(
            "run",
            str(tmp_path / "sweep.yaml"),
            "--store",
            url,
            "--executor",
            "local",
            "--quiet",
            "--trials",
            "2",
        ).returncode
        == 0
    )
    app = create_app(url, poll_s=0.0)
    feeds = app.state.hypersweep.feeds
    with TestClient(app) as c, open_store(url) as st:
        first = c.get("/api/studies/feed/changes").json()
        assert first["trials"] == [] and first["counts"]["complete"] == 2
        cursor = first["cursor"]
        assert c.get(f"/api/studies/feed/changes?after={cursor}").json()["trials"] == []
        study = st.get_study("feed")
        [new] = st.create_trials(study.study_id, [NewTrial(params={"x": 9, "kind": "a"}, seed=1)])
        got = c.get(f"/api/studies/feed/changes?after={cursor}").json()
        assert [(t["number"], t["state"]) for t in got["trials"]] == [(2, "running")]
        cursor = got["cursor"]
        st.finish_trials(
            [
                TrialOutcome(
                    trial_id=new.trial_id, state=TrialState.COMPLETE, metrics={"score": 9.0}, objective=9.0
                )
            ]
        )
        got = c.get(f"/api/studies/feed/changes?after={cursor}").json()
        assert [(t["number"], t["state"], t["objective"]) for t in got["trials"]] == [(2, "complete", 9.0)]
        assert got["counts"]["complete"] == 3
        assert c.get(f"/api/studies/feed/changes?after={got['cursor']}").json()["trials"] == []
    # pages share one poll: many pages inside one interval cost one store read
    app = create_app(url, poll_s=60.0)
    feeds = app.state.hypersweep.feeds
    with TestClient(app) as c:
        for _ in range(20):
            c.get("/api/studies/feed/changes?after=0")
    assert feeds.polls == 1
