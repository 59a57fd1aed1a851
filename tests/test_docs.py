"""The docs cannot drift: generated pages match their generator, every command is documented, links resolve.

`python docs/_gen.py` regenerates docs/cli.md and docs/sweep-file-reference.md.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
REGEN = "run `python docs/_gen.py` and commit the result"


def _load_gen():
    spec = importlib.util.spec_from_file_location("hypersweep_docs_gen", DOCS / "_gen.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _load_gen()


def test_cli_reference_is_current():
    assert (DOCS / "cli.md").read_text() == gen.cli_markdown(), f"docs/cli.md is out of date: {REGEN}"


def test_sweep_file_reference_is_current():
    assert (DOCS / "sweep-file-reference.md").read_text() == gen.sweep_file_reference_markdown(), (
        f"docs/sweep-file-reference.md is out of date: {REGEN}"
    )


def test_every_command_is_documented():
    from hypersweep.cli import cli

    names = set(cli.commands)
    db = cli.commands["db"]
    names |= {f"db {sub}" for sub in db.commands}  # type: ignore[attr-defined]
    assert set(gen.command_names()) == names
    text = (DOCS / "cli.md").read_text()
    missing = [n for n in sorted(names) if f"\n## hypersweep {n}\n" not in text]
    assert not missing, f"undocumented commands in docs/cli.md: {missing}; {REGEN}"


def test_every_schema_key_is_in_the_reference():
    from hypersweep.spec import json_schema

    text = (DOCS / "sweep-file-reference.md").read_text()
    schema = json_schema()
    for key, sub in schema["properties"].items():
        assert f"`{key}`" in text, key
        for variant in [sub, *sub.get("anyOf", [])]:
            for inner in variant.get("properties", {}):
                assert f"| `{inner}` |" in text, f"{key}.{inner}"


def test_generator_refuses_notes_for_unknown_keys(monkeypatch):
    monkeypatch.setitem(gen.NOTES, "budget.no_such_key", "stale")
    with pytest.raises(SystemExit, match="no_such_key"):
        gen.sweep_file_reference_markdown()


_LINK = re.compile(r"(?<!\!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|!\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.S | re.M)
_CODE = re.compile(r"`[^`\n]*`")


def _markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def _relative_links(path: Path) -> list[tuple[str, Path]]:
    text = _CODE.sub("", _FENCE.sub("", path.read_text()))
    out = []
    for m in _LINK.finditer(text):
        target = m.group(1) or m.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            continue  # http:, mailto:, ... and anchors within the page
        file_part = unquote(target.split("#", 1)[0])
        out.append((target, (path.parent / file_part).resolve()))
    return out


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    broken = [target for target, resolved in _relative_links(path) if not resolved.exists()]
    assert not broken, f"{path.relative_to(ROOT)} links to missing files: {broken}"


def test_link_checker_finds_broken_links(tmp_path):
    page = tmp_path / "page.md"
    (tmp_path / "there.md").write_text("x")
    page.write_text(
        "[ok](there.md) [anchor](there.md#a) [gone](missing.md) ![img](nope.png) [web](https://x.org)\n"
        "`[code](not-a-link.md)`\n```\n[fenced](also-not.md)\n```\n"
    )
    broken = [t for t, resolved in _relative_links(page) if not resolved.exists()]
    assert broken == ["missing.md", "nope.png"]


def test_docs_index_links_every_page():
    index = (DOCS / "index.md").read_text()
    pages = {p.name for p in DOCS.glob("*.md")} - {"index.md"}
    missing = sorted(p for p in pages if f"({p}" not in index)
    assert not missing, f"docs/index.md does not link {missing}"


def test_readme_links_the_docs():
    readme = (ROOT / "README.md").read_text()
    for page in ("docs/index.md", "docs/quickstart.md", "docs/cli.md", "docs/sweep-file-reference.md"):
        assert f"({page}" in readme, page
