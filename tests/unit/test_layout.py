"""The package's structure: no import cycles between files, every module under a layer contract, small modules."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import grimp

import hypersweep

ROOT = Path(__file__).resolve().parents[2]
SRC = Path(hypersweep.__file__).parent
MAX_LINES = 800


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("hypersweep", include_external_packages=False)


def test_no_import_cycles_between_files():
    """Counting imports inside functions and under TYPE_CHECKING: grimp reads every import statement."""
    g = _graph()
    mods = set(g.modules)
    cycles = set()
    for m in mods:
        for n in g.find_modules_directly_imported_by(m):
            if n in mods and n != m and g.find_shortest_chain(importer=n, imported=m):
                cycles.add(tuple(sorted((m, n))))
    assert sorted(cycles) == []


def test_a_cycle_would_be_found(tmp_path, monkeypatch):
    """The check above can fail: two files importing each other (one inside a function) are a cycle."""
    pkg = tmp_path / "cyclic_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from cyclic_pkg import b\n")
    (pkg / "b.py").write_text("from cyclic_pkg import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    g = grimp.build_graph("cyclic_pkg", include_external_packages=False, cache_dir=None)
    assert g.find_shortest_chain(importer="cyclic_pkg.a", imported="cyclic_pkg.b")
    assert g.find_shortest_chain(importer="cyclic_pkg.b", imported="cyclic_pkg.a")


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def test_the_layer_contract_names_every_module():
    layered: set[str] = set()
    for c in _contracts():
        if c["type"] == "layers":
            for layer in c["layers"]:
                layered.update(part.strip() for part in layer.replace(":", "|").split("|"))
    top = {f"hypersweep.{m.name}" for m in pkgutil.iter_modules([str(SRC)])}
    assert top - layered == set(), "add every new top-level module or package to the layers contract"


def test_every_sibling_is_under_an_independence_contract():
    independent = {m for c in _contracts() if c["type"] == "independence" for m in c["modules"]}
    siblings = {
        f"hypersweep.{n}" for n in ("strategies", "executors", "store", "trial", "artifacts", "provenance")
    }
    assert siblings <= independent


def test_no_module_is_over_800_lines():
    big = {
        str(p.relative_to(SRC)): n
        for p in SRC.rglob("*.py")
        if "migrations" not in p.parts and (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert big == {}
