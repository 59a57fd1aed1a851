"""The dashboard on a team's PostgreSQL store: a SELECT-only role sees every page, and no actions."""

from __future__ import annotations

import os
import uuid

import pytest
from _uihelpers import SWEEP, TRIAL, run_cli
from starlette.testclient import TestClient

from hypersweep.ui import create_app

pytestmark = pytest.mark.postgres
PG = os.environ.get("HYPERSWEEP_TEST_POSTGRES_URL")


@pytest.fixture
def readonly_url(tmp_path):
    if not PG:
        pytest.skip("needs HYPERSWEEP_TEST_POSTGRES_URL")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = make_url(PG)
    db, role = f"hs_ui_{uuid.uuid4().hex[:8]}", f"hs_ro_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db}"'))
        conn.execute(text(f"CREATE ROLE \"{role}\" LOGIN PASSWORD 'ro'"))
    writer = admin.set(database=db).render_as_string(hide_password=False)
    (tmp_path / "sweep.yaml").write_text(SWEEP)
    (tmp_path / "trialfn.py").write_text(TRIAL)
    p = run_cli(
        "run",
        str(tmp_path / "sweep.yaml"),
        "--store",
        writer,
        "--executor",
        "local",
        "--quiet",
        "--artifact-root",
        str(tmp_path / "artifacts"),
    )
    assert p.returncode == 0, p.stderr
    owner = create_engine(admin.set(database=db), isolation_level="AUTOCOMMIT")
    with owner.connect() as conn:
        conn.execute(text(f'GRANT USAGE ON SCHEMA public TO "{role}"'))
        conn.execute(text(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"'))
    owner.dispose()
    yield admin.set(database=db, username=role, password="ro").render_as_string(hide_password=False)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    engine.dispose()


def test_a_select_only_role_gets_pages_without_actions(readonly_url):
    with TestClient(create_app(readonly_url)) as c:
        page = c.get("/studies/ui-grid")
        assert page.status_code == 200 and page.text.count('data-testid="trial-row"') == 6
        assert 'data-testid="stop"' not in page.text and "read-only" in page.text
        assert c.get("/api/studies/ui-grid/leaderboard?top=3").status_code == 200
        assert c.get("/api/studies/ui-grid/changes").status_code == 200
        assert ":***@" in page.text and ":ro@" not in page.text  # the password is masked
