"""Generate docs/cli.md (from each command's --help) and docs/sweep-file-reference.md (from the JSON Schema).

    python docs/_gen.py            # rewrite both files
    python docs/_gen.py --check    # exit 1 when either file differs from what would be generated

Both pages are derived from the code, so they cannot drift: tests/test_docs.py compares the files with
``cli_markdown()`` and ``sweep_file_reference_markdown()``. Edit the click commands or
``hypersweep/spec/_schema.py`` (and the short notes below), never the generated pages.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

DOCS = Path(__file__).resolve().parent
WIDTH = 100  # help text is wrapped at this width, whatever the terminal

# Short explanations the schema itself does not carry, keyed by the dotted path of a key in the schema
# (``parameters.*`` for parameter fields). A note whose key is not in the schema is an error, so a key
# removed from the schema cannot keep a stale note here.
NOTES: dict[str, str] = {
    "name": "Also the study's name in the store; `run --name` overrides it.",
    "objective": "Without an objective the strategy defaults to `random` and leaderboards sort by trial number.",
    "objective.metric": "A metric the trial returns or reports; a trial without it (or NaN) is failed.",
    "objective.target": "Running trials are cancelled (`interrupted`, not rerun) and the study is `finished`.",
    "objectives": "In order, each `{metric, goal}`; no `target`, no early stopping (see sweep-file.md, "
    "Several objectives). A trial without one of them (or NaN) is failed.",
    "strategy": "A string, or an object with `name` and the strategy's options "
    "(`{n_startup_trials: 5}` without `name` means tpe with those options, random without an objective). "
    "Without the key: `auto`, resolved once when the study is created (see sweep-file.md).",
    "strategy.n_startup_trials": "Random trials before the model (TPE, GP, CMA-ES) starts.",
    "strategy.deterministic_objective": "GP: the objective has no noise (the model fits it exactly).",
    "strategy.sigma0": "CMA-ES: initial step size (default: a sixth of each range).",
    "strategy.popsize": "CMA-ES: suggestions per generation.",
    "strategy.use_separable_cma": "CMA-ES: a diagonal covariance (faster for many parameters).",
    "strategy.with_margin": "CMA-ES with margin, for int and stepped parameters.",
    "strategy.lr_adapt": "CMA-ES: adapt the learning rate (noisy or multimodal objectives).",
    "strategy.population_size": "NSGA-II: trials per generation (default 50).",
    "strategy.mutation_prob": "NSGA-II: chance a parameter is mutated (default 1 / number of parameters).",
    "strategy.crossover_prob": "NSGA-II: chance two parents are crossed over (default 0.9).",
    "strategy.swapping_prob": "NSGA-II: chance each parameter comes from the other parent (default 0.5).",
    "strategy.multivariate": "Model parameters jointly (Optuna's multivariate TPE).",
    "strategy.constant_liar": "Avoid suggesting the same point to trials running in parallel.",
    "early_stopping.warmup_steps": "Median: steps a trial runs before it can be pruned.",
    "early_stopping.startup_trials": "Median: finished trials needed before any pruning.",
    "early_stopping.min_resource": "Steps (reports) every trial gets at the first rung.",
    "early_stopping.max_resource": "Most steps a trial reports (`auto`: estimated by Optuna).",
    "early_stopping.reduction_factor": "Keep the top 1/factor of trials at each rung.",
    "monitoring.interval": "How often system metrics are sampled.",
    "seed": "Each trial's seed is derived from it and the trial's params (see reproducibility.md).",
    "budget.trials": "Finished (complete + pruned) trials wanted. Grid: the grid's size by default; "
    "below it runs the first N points, above it is capped (both warn).",
    "budget.parallel": "Trials in flight at most (`run --parallel`).",
    "budget.max_failures": "Failed trials allowed over the study's life (exit 5 beyond). Without it, a run "
    "still stops when its first 3 trials fail with the same error.",
    "budget.retries": "Times a failed trial's params are tried again.",
    "budget.timeout": "Wall-clock limit for this run of the driver; then running trials are `interrupted` "
    "and the study can be resumed.",
    "trial.function": "`module:function`, resolved from the sweep file's folder, then `sys.path`.",
    "trial.command": 'An argv list, never a shell: `[python, train.py, "--lr={lr}"]`. An item naming an '
    "inactive parameter is left out.",
    "trial.timeout": "Per trial (Ray executor); the trial is `failed` when it elapses.",
    "trial.env": "Extra environment variables for every trial (numbers become strings).",
    "trial.wandb": "`capture` runs the script with hypersweep's offline `wandb` stand-in (the default "
    "for W&B files); see wandb.md.",
    "trial.data": "Data files (or folders) the trial reads: their content hashes are recorded with the "
    "study (see reproducibility.md).",
    "resources": "Per trial, as Ray resources: `run --set resources.gpus=1` overrides it for one run.",
    "resources.cpus": "Ray CPUs per trial (fractions allowed).",
    "resources.gpus": "Ray GPUs per trial; `0.5` packs two trials per GPU.",
    "resources.accelerator_type": "Only nodes with this accelerator (`A100`, `H100`, ...; Ray's "
    "`accelerator_type` label).",
    "resources.custom": "Custom Ray resources, as declared by `ray start --resources`.",
    "early_stopping": "Pruners: `median`, `asha`, `hyperband`, or `none`; a trial reports per step with "
    "`hypersweep.report(step, metric=...)`.",
    "parameters": "The search space, flat: one entry per parameter (W&B files may nest).",
    "parameters.*.when": "Active only when every named parameter (categorical or constant, declared "
    "above) has one of the given values; inactive parameters are absent from the trial's params.",
    "parameters.*.step": "Grid points are `low + k*step <= high`.",
    "parameters.*.log": "Sampled on a log scale; needs `low > 0`, excludes `step`.",
    "enqueue": "Checked against the space; not yet tried ones run first, also on resume.",
    "monitoring": "System metrics (`sys/*`: CPU, memory, GPU) sampled while a trial runs; `false` turns "
    "them off.",
    "artifacts.root": "A folder or an fsspec URL (`s3://bucket/prefix`); `run --artifact-root` wins. "
    "See artifacts.md.",
}


# --------------------------------------------------------------------------------------------- CLI


def _commands() -> list[tuple[str, click.Command]]:
    """Every command as (full name, command), the group's subcommands right after the group."""
    from hypersweep.cli import cli

    out: list[tuple[str, click.Command]] = []
    for name in sorted(cli.commands):
        cmd = cli.commands[name]
        out.append((name, cmd))
        if isinstance(cmd, click.Group):
            out += [(f"{name} {sub}", cmd.commands[sub]) for sub in sorted(cmd.commands)]
    return out


def command_names() -> list[str]:
    """`run`, `studies`, ..., `db`, `db upgrade`: what docs/cli.md must document."""
    return [name for name, _ in _commands()]


def _help(cmd: click.Command, info_name: str) -> str:
    """The help a user sees: contexts made as the CLI makes them (the group's settings, such as ``-h``,
    reach every subcommand), so the text does not depend on what ran before in this process."""
    from hypersweep.cli import cli

    root = cli.make_context(
        "hypersweep", [], resilient_parsing=True, terminal_width=WIDTH, max_content_width=WIDTH
    )
    ctx = root
    for part in info_name.split()[1:]:
        group = ctx.command
        assert isinstance(group, click.Group)
        sub = group.commands[part]
        ctx = sub.make_context(part, [], parent=ctx, resilient_parsing=True)
    ctx.info_name = info_name.split()[-1]
    assert ctx.command is cmd
    return cmd.get_help(ctx).rstrip()


def _anchor(name: str) -> str:
    return "hypersweep-" + name.replace(" ", "-")


def cli_markdown() -> str:
    from hypersweep.cli import cli

    lines = [
        "# Command-line reference",
        "",
        "<!-- Generated by `python docs/_gen.py` from each command's `--help`; do not edit by hand. -->",
        "",
        "Every command takes `-h`/`--help`. Commands that use a store take `--store URL`, else "
        "`$HYPERSWEEP_STORE`, else `sqlite:///hypersweep.db` in the current folder; commands that only "
        "read never create one. Exit codes: 0 ok, 1 unexpected error, 2 invalid spec or usage (also a "
        "resume conflict or a study held by another driver), 3 store, 4 executor, 5 failure budget, "
        "6 `reproduce` did not reproduce, 130 Ctrl-C.",
        "",
        "| command | what it does |",
        "|---|---|",
    ]
    for name, cmd in _commands():
        short = cmd.get_short_help_str(limit=200).replace("|", "\\|")
        lines.append(f"| [`hypersweep {name}`](#{_anchor(name)}) | {short} |")
    lines += ["", "## hypersweep", "", "```text", _help(cli, "hypersweep"), "```"]
    for name, cmd in _commands():
        lines += ["", f"## hypersweep {name}", "", "```text", _help(cmd, f"hypersweep {name}"), "```"]
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------- sweep-file schema


def _code(value: Any) -> str:
    return "`" + json.dumps(value) + "`" if not isinstance(value, str) else f"`{value}`"


def _type(s: dict[str, Any], defs: dict[str, Any]) -> str:
    """A short, readable description of a schema node's type and constraints."""
    if "$ref" in s:
        name = s["$ref"].rsplit("/", 1)[-1]
        return {"duration": "duration", "when": "condition (`when`)"}.get(name, name)
    if "const" in s:
        return _code(s["const"])
    if "enum" in s:
        return " \\| ".join(_code(v) for v in s["enum"])
    if "anyOf" in s or "oneOf" in s:
        return " or ".join(_type(v, defs) for v in s.get("anyOf", s.get("oneOf")))
    t = s.get("type", "any")
    t = " or ".join(t) if isinstance(t, list) else t
    if t == "array":
        items = s.get("items")
        t = f"list of {_type(items, defs)}" if items else "list"
        if "minItems" in s:
            t += f" (≥ {s['minItems']} items)"
        return t
    if t == "object" and "properties" not in s:
        extra = s.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            return f"map of name → {_type(extra, defs)}"
        return "mapping"
    bounds = []
    for key, op in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<")):
        if key in s:
            bounds.append(f"{op} {s[key]}")
    if "minLength" in s:
        bounds.append("not empty")
    if "pattern" in s:
        bounds.append(f"matching `{s['pattern']}`")
    return t + (" " + ", ".join(bounds) if bounds else "")


def _desc(path: str, s: dict[str, Any]) -> str:
    parts = [p for p in (s.get("description"), NOTES.get(path)) if p]
    if parts and parts[0] and not parts[0].endswith("."):
        parts[0] = parts[0][0].upper() + parts[0][1:] + "."
    elif parts:
        parts[0] = parts[0][0].upper() + parts[0][1:]
    return " ".join(parts).replace("|", "\\|")


def _table(prefix: str, s: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    required = set(s.get("required", ()))
    rows = ["| key | type | default | description |", "|---|---|---|---|"]
    for key, sub in s.get("properties", {}).items():
        path = f"{prefix}.{key}" if prefix else key
        default = _code(sub["default"]) if "default" in sub else ("required" if key in required else "")
        rows.append(f"| `{key}` | {_type(sub, defs)} | {default} | {_desc(path, sub)} |")
    return rows


def _paths(schema: dict[str, Any]) -> set[str]:
    """Every dotted path NOTES may name."""
    out: set[str] = set()
    for key, sub in schema["properties"].items():
        out.add(key)
        for variant in [sub, *sub.get("anyOf", [])]:
            out |= {f"{key}.{k}" for k in variant.get("properties", {})}
    for variant in schema["$defs"]["parameter"]["anyOf"]:
        out |= {f"parameters.*.{k}" for k in variant["properties"]}
    return out


def sweep_file_reference_markdown() -> str:
    from hypersweep.spec import json_schema

    schema = json_schema()
    defs = schema["$defs"]
    unknown = sorted(set(NOTES) - _paths(schema))
    if unknown:
        raise SystemExit(f"docs/_gen.py: NOTES name keys the schema does not have: {unknown}")
    required = set(schema.get("required", ()))
    lines = [
        "# Sweep file reference",
        "",
        "<!-- Generated by `python docs/_gen.py` from `hypersweep schema`; do not edit by hand. -->",
        "",
        "Every key of the native sweep format, generated from its JSON Schema (`hypersweep schema`), so "
        "this page and the validator cannot disagree. [sweep-file.md](sweep-file.md) explains the format "
        "with examples and the rules a JSON Schema cannot express (`low < high`, `when` naming parameters "
        "declared above, the trial's files existing); `hypersweep validate FILE` checks all of them and "
        "reports every mistake with its line. W&B sweep configs (a top-level `method:`) are described in "
        "[wandb.md](wandb.md).",
        "",
        "Unknown keys are errors (with a *did you mean* hint) at every level.",
        "",
        "## Top level",
        "",
        "| key | type | required | description |",
        "|---|---|---|---|",
    ]
    for key, sub in schema["properties"].items():
        kind = "section" if "properties" in sub else _type(sub, defs)
        link = f"[`{key}`](#{key})" if "properties" in sub or "anyOf" in sub else f"`{key}`"
        lines.append(f"| {link} | {kind} | {'yes' if key in required else ''} | {_desc(key, sub)} |")

    for key, sub in schema["properties"].items():
        if key == "parameters":
            lines += _parameters_section(sub, defs)
            continue
        if "properties" not in sub and "anyOf" not in sub:
            continue
        lines += ["", f"## {key}", ""]
        if _desc(key, sub):
            lines += [_desc(key, sub), ""]
        if "properties" in sub:
            lines += _table(key, sub, defs)
            if "oneOf" in sub:
                alts = " or ".join(f"`{r['required'][0]}`" for r in sub["oneOf"])
                lines += ["", f"Exactly one of {alts} is required."]
        else:
            lines.append("One of:")
            lines.append("")
            for variant in sub["anyOf"]:
                lines += _variant(key, variant, defs)
    lines += [
        "",
        "## Durations",
        "",
        f"{defs['duration']['description'][0].upper()}{defs['duration']['description'][1:]}: "
        f"{_type(defs['duration'], defs)}.",
        "",
        "## The complete schema",
        "",
        "<details><summary><code>hypersweep schema</code></summary>",
        "",
        "```json",
        json.dumps(schema, indent=2),
        "```",
        "",
        "</details>",
    ]
    return "\n".join(_squeeze(lines)) + "\n"


def _variant(key: str, variant: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    """One alternative of an anyOf: a scalar, an object naming its kind only, or an object with options."""
    props = variant.get("properties")
    if not props:
        return [f"- {_type(variant, defs)}"]
    tag = next((k for k in ("name", "type") if k in props), None)
    if tag and set(props) == {tag}:
        values = props[tag].get("enum") or [props[tag].get("const")]
        return [f"- an object `{{{tag}: {v}}}`" for v in values]
    head = f"- an object with `{tag}: {props[tag].get('const', '...')}`" if tag else "- an object"
    return ["", head + ":", "", *("  " + row for row in _table(key, variant, defs)), ""]


def _parameters_section(sub: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    lines = ["", "## parameters", "", _desc("parameters", sub), ""]
    names = sub.get("propertyNames", {}).get("pattern")
    if names:
        lines += [f"Parameter names match `{names}`. Each parameter is one of:", ""]
    for variant in defs["parameter"]["anyOf"]:
        title = variant.get("title", "")
        need = ", ".join(f"`{k}`" for k in variant.get("required", ()))
        lines += [f"### {title}", "", f"Requires {need}.", ""]
        lines += _table("parameters.*", variant, defs)
        lines.append("")
    lines.append(
        "`type` may be left out for `{value: x}` (a constant) and `{values: [...]}` (categorical). "
        "Grid search takes categorical, constant, and int/float ranges with `step` (int: step 1)."
    )
    return lines


def _squeeze(lines: list[str]) -> list[str]:
    """No double blank lines (outside the JSON block, where there are none)."""
    out: list[str] = []
    for line in lines:
        if line == "" and out and out[-1] == "":
            continue
        out.append(line)
    return out


# ---------------------------------------------------------------------------------------------- main

PAGES = {"cli.md": cli_markdown, "sweep-file-reference.md": sweep_file_reference_markdown}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, make in PAGES.items():
        path = DOCS / name
        text = make()
        if path.exists() and path.read_text() == text:
            continue
        if check:
            stale.append(name)
        else:
            path.write_text(text)
            print(f"wrote {path}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run `python docs/_gen.py`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
