"""The dashboard in a real browser: Debian's chromium driven by Playwright, against a real server.

Without chromium these tests skip, except under ``CI=true``, where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest
from _uihelpers import SWEEP, TRIAL, run_cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        raise RuntimeError("CI=true: the browser tests need Debian's chromium (apt-get install chromium)")
    pytest.skip(
        "the browser tests need Debian's chromium (apt-get install chromium)", allow_module_level=True
    )

playwright_sync = pytest.importorskip("playwright.sync_api")

from hypersweep.ui import prepare, serve_background  # noqa: E402

SLOW_TRIAL = """\
import time

import hypersweep


def train(params):
    for step in range(3):
        time.sleep(0.15)
        hypersweep.report(step, score=params["x"] * (step + 1) / 10)
    return {"score": params["x"] + (0.5 if params["kind"] == "b" else 0.0)}
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    f = tmp_path_factory.mktemp("browser")
    (f / "sweep.yaml").write_text(SWEEP)
    (f / "trialfn.py").write_text(TRIAL)
    url = f"sqlite:///{f / 'hs.db'}"
    assert (
        run_cli("run", str(f / "sweep.yaml"), "--store", url, "--executor", "local", "--quiet").returncode
        == 0
    )
    payload = "<script>window.__xss=1</script><img src=x onerror=window.__xss=2>"
    assert run_cli("note", "ui-grid", payload, "--store", url).returncode == 0
    return f


@pytest.fixture(scope="module")
def server(folder):
    served = prepare(f"sqlite:///{folder / 'hs.db'}", port=0)
    thread = serve_background(served)
    yield served.url.rstrip("/")
    served.server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    pg = context.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))  # type: ignore[attr-defined]
    pg.on("dialog", lambda d: (pg.errors.append(f"dialog: {d.message}"), d.dismiss()))  # type: ignore[attr-defined]
    yield pg
    context.close()


def _settle(pg) -> None:
    """Loaded, and the page's first fetches (charts, the first live poll) answered."""
    pg.wait_for_load_state("load")
    pg.wait_for_timeout(2000)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/studies/ui-grid",
        "/studies/ui-grid/trials/5",
        "/compare?t=ui-grid:0&t=ui-grid:5",
        "/leaderboard?pattern=ui-*",
    ],
)
def test_every_page_loads_without_javascript_errors(page, server, path):
    response = page.goto(server + path)
    assert response is not None and response.status == 200
    _settle(page)
    assert page.errors == [] and page.evaluate("window.__hsErrors") == []


def test_the_study_page_draws_its_charts(page, server):
    page.goto(server + "/studies/ui-grid")
    page.wait_for_selector("#chart-history .main-svg")
    page.wait_for_selector('[data-plot="parallel_coordinate"] .main-svg', timeout=30_000)
    assert page.locator("#chart-curves .main-svg").count() > 0


def test_a_filter_narrows_the_table(page, server):
    page.goto(server + "/studies/ui-grid")
    assert page.get_by_test_id("trial-row").count() == 6
    page.get_by_test_id("where").fill("params.kind = 'b' and params.x >= 2")
    page.get_by_test_id("filter-submit").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("trial-row").count() == 2


def test_a_click_on_a_trial_row_opens_it(page, server):
    page.goto(server + "/studies/ui-grid")
    page.get_by_test_id("trial-row").first.locator("td").nth(2).click()
    page.wait_for_url("**/studies/ui-grid/trials/5")
    assert page.get_by_test_id("trial-state").inner_text() == "complete"


def test_a_click_on_a_study_row_opens_it(page, server):
    page.goto(server + "/")
    page.get_by_test_id("study-row").first.locator("td").nth(3).click()
    page.wait_for_url("**/studies/ui-grid")


def test_a_script_in_a_note_stays_text(page, server):
    page.goto(server + "/studies/ui-grid")
    _settle(page)
    assert "<script>window.__xss=1</script>" in page.get_by_test_id("study-note").inner_text()
    assert page.evaluate("window.__xss") is None and page.errors == []


def test_a_running_sweep_grows_on_an_open_page(page, tmp_path):
    (tmp_path / "sweep.yaml").write_text(SWEEP.replace("name: ui-grid", "name: live-grid"))
    (tmp_path / "trialfn.py").write_text(SLOW_TRIAL)
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    first = run_cli(
        "run", str(tmp_path / "sweep.yaml"), "--store", url, "--executor", "local", "--quiet", "--trials", "1"
    )
    assert first.returncode == 0
    served = prepare(url, port=0)
    thread = serve_background(served)
    try:
        page.goto(served.url.rstrip("/") + "/studies/live-grid")
        count = page.get_by_test_id("complete-count")
        assert count.inner_text() == "1"
        page.evaluate("window.__sameDocument = true")
        more = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hypersweep.cli",
                "resume",
                "live-grid",
                "--store",
                url,
                "--executor",
                "local",
                "--quiet",
                "--trials",
                "6",
            ],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        seen = {"1"}
        while time.monotonic() < deadline and "6" not in seen:
            seen.add(count.inner_text().strip())
            page.wait_for_timeout(200)
        assert more.wait(120) == 0, more.stderr.read() if more.stderr else ""
        assert "6" in seen, seen  # it grew to the sweep's end
        assert page.evaluate("window.__sameDocument") is True  # without a reload
        assert page.errors == []
    finally:
        served.server.should_exit = True
        thread.join(10)


def test_a_non_loopback_bind_without_a_token_answers_401(page, folder):
    served = prepare(f"sqlite:///{folder / 'hs.db'}", host="0.0.0.0", port=0)
    thread = serve_background(served)
    try:
        port = served.server.config.port
        response = page.goto(f"http://127.0.0.1:{port}/")
        assert response is not None and response.status == 401
        response = page.goto(served.url.replace("0.0.0.0", "127.0.0.1"))  # the printed URL carries the token
        assert response is not None and response.status == 200
        assert page.get_by_test_id("study-row").count() == 1
    finally:
        served.server.should_exit = True
        thread.join(10)


MO_SPEC = """\
name: ui-mo
objectives: [{metric: acc, goal: maximize}, {metric: size, goal: minimize}]
strategy: random
seed: 2
budget: {trials: 8}
trial: {function: "m:f"}
parameters:
  x: {type: float, low: 0, high: 1}
  y: {type: float, low: 0, high: 1}
"""


@pytest.fixture(scope="module")
def mo_server(tmp_path_factory):
    from hypersweep.store import open_store
    from hypersweep.testing import Complete, run_study

    url = f"sqlite:///{tmp_path_factory.mktemp('browser-mo') / 'hs.db'}"
    st = open_store(url, create=True)
    run_study(
        st, MO_SPEC, lambda t: Complete({"acc": t.params["x"], "size": t.params["x"] ** 2 + t.params["y"]})
    )
    st.close()
    served = prepare(url, port=0)
    thread = serve_background(served)
    yield served.url.rstrip("/")
    served.server.should_exit = True
    thread.join(10)


def test_a_study_with_several_objectives_draws_its_pareto_card(page, mo_server):
    page.goto(mo_server + "/studies/ui-mo")
    page.wait_for_selector("#chart-pareto .main-svg", timeout=30_000)
    page.wait_for_selector("#chart-hypervolume .main-svg", timeout=30_000)
    _settle(page)
    assert page.errors == [] and page.evaluate("window.__hsErrors") == []
    assert page.locator('[data-plot="pareto_front"]').count() == 0  # drawn in its card, not among the others
