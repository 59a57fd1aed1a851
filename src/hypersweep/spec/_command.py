"""argv templates: native ``{name}`` placeholders and W&B ``${macro}`` items.

* An item that is exactly one W&B macro expands to zero or more items (``${args}`` -> ``--lr=0.1``, ...).
* Any other item is a template: ``{name}`` is replaced by the parameter's value as Python ``str()``,
  ``{{`` and ``}}`` are literal braces. An item naming an inactive or missing parameter is left out.

A W&B file's own ``command`` items never hold templates (W&B passes them verbatim), so the spec escapes
their braces when it reads them; one function then serves both formats.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hypersweep.spec._space import Param, nest_params

__all__ = [
    "MACROS",
    "args_json",
    "build_argv",
    "trial_config",
    "escape_braces",
    "macro_of",
    "template_fields",
]

MACROS = (
    "env",
    "interpreter",
    "program",
    "args",
    "args_no_hyphens",
    "args_json",
    "args_no_boolean_flags",
    "args_json_file",
    "args_no_equals",
    "args_append_hydra",
    "args_override_hydra",
)
_MACRO_RE = re.compile(r"^\$\{([^{}]*)\}$")
# W&B's agent replaces ${envvar:NAME} anywhere in a command item, before the macros, with the variable's
# value, or NAME itself when it is unset (create_sweep_command). A W&B item is stored brace-escaped.
_ENVVAR_RE = re.compile(r"\$\{envvar:([A-Z0-9_]*)\}")
_ENVVAR_ESCAPED_RE = re.compile(r"\$\{\{envvar:([A-Z0-9_]*)\}\}")


def macro_of(item: str) -> str | None:
    """``"${args}"`` -> ``"args"``; None when the item is not a whole macro."""
    m = _MACRO_RE.match(item)
    return m.group(1) if m else None


def is_known_macro(name: str) -> bool:
    return name in MACROS or (name.startswith("envvar:") and len(name) > len("envvar:"))


def escape_braces(item: str) -> str:
    return item if macro_of(item) is not None else item.replace("{", "{{").replace("}", "}}")


def template_fields(item: str) -> Iterator[tuple[str, str]]:
    """Parse one template item: yields ("text", s) and ("field", name); raises ValueError if malformed."""
    i, n = 0, len(item)
    buf = ""
    while i < n:
        c = item[i]
        if c == "{":
            if item.startswith("{{", i):
                buf += "{"
                i += 2
                continue
            end = item.find("}", i + 1)
            if end < 0:
                raise ValueError(f"unclosed '{{' in {item!r} (write {{{{ for a literal brace)")
            name = item[i + 1 : end].strip()
            if not name or "{" in name:
                raise ValueError(
                    f"empty or malformed placeholder in {item!r} (write {{{{ }}}} for literal braces)"
                )
            if buf:
                yield "text", buf
                buf = ""
            yield "field", name
            i = end + 1
        elif c == "}":
            if item.startswith("}}", i):
                buf += "}"
                i += 2
                continue
            raise ValueError(f"single '}}' in {item!r} (write }}}} for a literal brace)")
        else:
            buf += c
            i += 1
    if buf:
        yield "text", buf


def _render(item: str, flat: Mapping[str, Any]) -> str | None:
    out = []
    for kind, text in template_fields(item):
        if kind == "text":
            out.append(text)
        else:
            if text not in flat:
                return None  # an inactive or missing parameter: leave the item out
            out.append(str(flat[text]))
    return "".join(out)


def build_argv(
    template: Sequence[str],
    params: Mapping[str, Any],
    *,
    program: str | None,
    interpreter: str,
    config: Mapping[str, Any] | None = None,
    space: Sequence[Param] | None = None,
    args_json_file: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """Expand an argv template for one trial: a list of str items, never a shell string.

    ``params`` are the trial's params keyed by parameter name (as strategies produce them); ``{name}``
    templates read them. W&B macros read the trial's *config*: its top-level keys and values exactly as
    W&B's agent passes them (see docs/wandb.md). Give ``config`` (the payload's config) or ``space`` (the
    spec's parameters: a nested ``parameters:`` block becomes one key holding a dict, a flat name keeps its
    dots); with neither, ``params`` is used as it is: names are never folded on a dot.
    ``${env}`` expands to nothing (argv is exec'd directly); ``${envvar:NAME}``, anywhere in an item, to
    ``environ[NAME]`` (``os.environ`` when ``environ`` is None), or to ``NAME`` when unset, as W&B's agent
    does; unknown macros to nothing.
    """
    if config is None:
        config = nest_params(space, params) if space is not None else dict(params)
    flat = dict(params)
    env = os.environ if environ is None else environ
    argv: list[str] = []
    for item in template:
        # on the template only, never on rendered values: a param value cannot read the environment
        item = _ENVVAR_RE.sub(lambda m: _env_text(env, m.group(1)), item)
        item = _ENVVAR_ESCAPED_RE.sub(lambda m: _env_text(env, m.group(1)), item)
        macro = macro_of(item)
        if macro is None:
            rendered = _render(item, flat)
            if rendered is not None:
                argv.append(rendered)
            continue
        argv.extend(_expand(macro, config, program, interpreter, args_json_file, env))
    return argv


def _env_text(env: Mapping[str, str], name: str) -> str:
    return env.get(name, name).replace("{", "{{").replace("}", "}}")


def trial_config(space: Sequence[Param], params: Mapping[str, Any], *, wandb: bool) -> dict[str, Any]:
    """What a trial receives as its config (the W&B macros, ``wandb.config``, a function trial's argument).

    Native files: :func:`nest_params` (dotted names nest, in file order). W&B files: as W&B's sweep engine
    hands a run to its agent: a flat name keeps its dots and is one key; a nested ``parameters:`` block is
    one key holding a dict; flat keys come first, sorted, then the blocks, sorted, their keys sorted.
    """
    if not wandb:
        return nest_params(space, params)
    by_name = {p.name: p for p in space}
    leaves: list[tuple[tuple[str, ...], Any]] = []
    blocks: list[tuple[tuple[str, ...], Any]] = []
    for name, value in params.items():
        p = by_name.get(name)
        kpath = p.key_path if p is not None else (name,)
        (leaves if len(kpath) == 1 else blocks).append((kpath, value))
    out: dict[str, Any] = {}
    for kpath, value in sorted(leaves, key=lambda kv: kv[0]) + sorted(blocks, key=lambda kv: kv[0]):
        node = out
        for part in kpath[:-1]:
            node = node.setdefault(part, {})
        node[kpath[-1]] = value
    return out


def args_json(config: Mapping[str, Any]) -> str:
    """``${args_json}``, and the text of ``${args_json_file}``: the config as one JSON object, as W&B's
    ``json.dumps`` writes it (a value JSON cannot hold is written as its ``str()``, where W&B fails)."""
    return json.dumps(dict(config), default=str)


def _expand(
    macro: str,
    config: Mapping[str, Any],
    program: str | None,
    interpreter: str,
    args_json_file: str | None,
    env: Mapping[str, str],
) -> list[str]:
    # W&B's agent (wandb/sdk/launch/sweeps/utils.py, create_sweep_command_args): f"{key}={value}"
    if macro == "env":
        return []
    if macro == "interpreter":
        return [interpreter]
    if macro == "program":
        return [program] if program else []
    if macro == "args":
        return [f"--{k}={v}" for k, v in config.items()]
    if macro == "args_no_hyphens":
        return [f"{k}={v}" for k, v in config.items()]
    if macro == "args_append_hydra":
        return [f"+{k}={v}" for k, v in config.items()]
    if macro == "args_override_hydra":
        return [f"++{k}={v}" for k, v in config.items()]
    if macro == "args_no_equals":
        out: list[str] = []
        for k, v in config.items():
            out += [f"--{k}", str(v)]
        return out
    if macro == "args_no_boolean_flags":
        out = []
        for k, v in config.items():
            if isinstance(v, bool):
                if v:
                    out.append(f"--{k}")
            else:
                out.append(f"--{k}={v}")
        return out
    if macro == "args_json":
        return [args_json(config)]
    if macro == "args_json_file":
        return [args_json_file] if args_json_file else []
    return []  # ${envvar:name} that W&B's pattern ([A-Z0-9_]*) does not take, and unknown macros  # unknown macro: W&B expands it to nothing (the spec warned at load time)
