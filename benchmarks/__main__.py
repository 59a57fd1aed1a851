"""The benchmark runner: ``python -m benchmarks [NAME ...] [--quick] [--out benchmarks/results]``.

Runs the selected modules (default: every ``benchmarks/bench_<name>.py``) one after another. Each module
exposes ``run(quick: bool = False) -> dict`` (JSON-able) and ``render(results: dict) -> str`` (a Markdown
section). A module's results are written to ``<out>/<name>.json`` together with the command, the date
and the machine; then ``docs/benchmarks.md`` is regenerated from every JSON file present, so running
one module updates its section and keeps the others. A module that cannot be imported (a peer such as
mlflow missing) or whose run fails is reported as skipped with the reason; the others still run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import shlex
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks._common import DOCS, REPO, describe_machine, machine

HERE = Path(__file__).resolve().parent
DOC = DOCS / "benchmarks.md"


def available() -> list[str]:
    """Names of the benchmark modules, sorted."""
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def _import(name: str) -> ModuleType:
    return importlib.import_module(f"benchmarks.bench_{name}")


def _skip_reason(e: BaseException) -> str:
    if isinstance(e, ImportError) and e.name:
        return f"cannot import {e.name}: {e}"
    return f"{type(e).__name__}: {e}"


def run_one(name: str, quick: bool, out: Path, command: str) -> bool:
    """Run one module and write its JSON; False when it was skipped."""
    meta: dict[str, Any] = {"name": name, "command": command, "quick": quick, "machine": machine()}
    path = out / f"{name}.json"
    print(f"== {name}{' (quick)' if quick else ''}", flush=True)
    start = time.perf_counter()
    try:
        module = _import(name)
        results = module.run(quick=quick)
    except Exception as e:  # a module's failure is reported; the other modules still run
        if not isinstance(e, ImportError):
            traceback.print_exc()
        meta["skipped"] = _skip_reason(e)
        results = None
    meta["seconds"] = round(time.perf_counter() - start, 1)
    meta["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if results is None and path.exists():
        print(f"   skipped ({meta['skipped']}); keeping the earlier results in {path}", file=sys.stderr)
        return False
    path.write_text(dumps({"meta": meta, "results": results}))
    print(
        f"   {'skipped: ' + meta['skipped'] if results is None else 'done'} in {meta['seconds']} s -> {path}"
    )
    return results is not None


_NUMBERS = re.compile(
    r"\[\s+((?:-?[0-9.eE+-]+|null),(?:\s+(?:-?[0-9.eE+-]+|null),)*\s+(?:-?[0-9.eE+-]+|null))\s+\]"
)


def dumps(data: Any) -> str:
    """Indented JSON with each list of plain numbers on one line (curves stay readable and small)."""
    text = json.dumps(data, indent=2, default=str)
    return _NUMBERS.sub(lambda m: "[" + " ".join(m.group(1).split()) + "]", text) + "\n"


def _load(path: Path) -> tuple[dict[str, Any], Any]:
    """(meta, results) of a results file; a module's own ``__main__`` may write bare results."""
    data = json.loads(path.read_text())
    if isinstance(data, dict) and set(data) == {"meta", "results"}:
        return data["meta"], data["results"]
    return {"name": path.stem, "command": f"python -m benchmarks.bench_{path.stem}"}, data


def _provenance(meta: dict[str, Any], here: dict[str, Any]) -> str:
    parts = [f"Produced by `{meta['command']}`"]
    if meta.get("date"):
        parts.append(f"on {meta['date']}")
    if meta.get("seconds") is not None:
        parts.append(f"in {meta['seconds']:.0f} s")
    line = "_" + " ".join(parts) + "._"
    other = meta.get("machine")
    if other and (other.get("cpu"), other.get("versions")) != (here["cpu"], here["versions"]):
        line += f" _Measured on another machine or versions: {describe_machine(other)}_"
    return line


def section(path: Path, here: dict[str, Any]) -> str:
    """The Markdown section of one results file, with the command and date that produced it."""
    meta, results = _load(path)
    prov = _provenance(meta, here)
    if meta.get("skipped") or results is None:
        return f"## {path.stem}\n\n{prov}\n\nSkipped: {meta.get('skipped', 'no results')}.\n"
    try:
        body = _import(path.stem).render(results)
    except Exception as e:  # the file stays; only its rendering is missing from the page
        return f"## {path.stem}\n\n{prov}\n\nCannot render these results: {_skip_reason(e)}.\n"
    head, _, rest = body.partition("\n")
    if head.startswith("#"):
        return f"{head}\n\n{prov}\n\n" + rest.lstrip("\n")
    return f"{prov}\n\n{body}"


def write_docs(out: Path) -> Path:
    """Regenerate ``docs/benchmarks.md`` from every results file in ``out``."""
    here = machine()
    parts = [
        "# Benchmarks",
        "",
        "Generated by `python -m benchmarks` from the JSON files in "
        f"`{out.relative_to(REPO) if out.is_relative_to(REPO) else out}`; do not edit by hand. "
        "Each section names the command that produced it; `--quick` sections use smaller sizes.",
        "",
        f"**Machine:** {describe_machine(here)}",
        "",
    ]
    files = sorted(out.glob("*.json"))
    if not files:
        parts.append("No results yet: run `python -m benchmarks`.\n")
    parts.extend(section(p, here) for p in files)
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(parts).rstrip() + "\n")
    return DOC


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    names = available()
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"modules to run (default: all of {names})")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a quick look")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="folder of the JSON results")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in names]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(names)}")
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    command = shlex.join(["python", "-m", "benchmarks", *argv])
    ok = [run_one(n, args.quick, out, command) for n in args.names or names]
    print(f"wrote {write_docs(out)}")
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
