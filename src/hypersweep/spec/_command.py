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

from hypersweep.spec._space import Param, flatten, nest, nest_params

__all__ = ["MACROS", "build_argv", "escape_braces", "macro_of", "template_fields"]

MACROS = (
    "env",
    "interpreter",
    "program",
    "args",
    "args_no_hyphens",
    "args_json",
    "args_no_boolean_flags",
    "args_json_file",
)
_MACRO_RE = re.compile(r"^\$\{([^{}]*)\}$")


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
    args_json_file: str | None = None,
    environ: Mapping[str, str] | None = None,
    space: Sequence[Param] | None = None,
) -> list[str]:
    """Expand an argv template for one trial.

    ``params`` are the trial's params: flat with dotted names (as strategies produce them) or already
    nested. W&B macros see them nested (``--optimizer={'lr': 0.1}``, as W&B's agent passes them); give
    ``space`` (the spec's parameters) to nest a W&B name that itself contains a dot exactly as W&B does.
    ``${env}`` expands to nothing (argv is exec'd directly), ``${envvar:NAME}`` to ``environ[NAME]``
    (``os.environ`` when ``environ`` is None; left out when unset), unknown macros to nothing.
    """
    if any(isinstance(v, Mapping) for v in params.values()):
        nested = dict(params)
        flat = flatten(params)
    else:
        flat = dict(params)
        nested = nest_params(space, flat) if space is not None else nest(flat)
    env = os.environ if environ is None else environ
    argv: list[str] = []
    for item in template:
        macro = macro_of(item)
        if macro is None:
            rendered = _render(item, flat)
            if rendered is not None:
                argv.append(rendered)
            continue
        argv.extend(_expand(macro, nested, program, interpreter, args_json_file, env))
    return argv


def _expand(
    macro: str,
    nested: Mapping[str, Any],
    program: str | None,
    interpreter: str,
    args_json_file: str | None,
    env: Mapping[str, str],
) -> list[str]:
    if macro == "env":
        return []
    if macro == "interpreter":
        return [interpreter]
    if macro == "program":
        return [program] if program else []
    if macro == "args":
        return [f"--{k}={v}" for k, v in nested.items()]
    if macro == "args_no_hyphens":
        return [f"{k}={v}" for k, v in nested.items()]
    if macro == "args_no_boolean_flags":
        out = []
        for k, v in nested.items():
            if isinstance(v, bool):
                if v:
                    out.append(f"--{k}")
            else:
                out.append(f"--{k}={v}")
        return out
    if macro == "args_json":
        return [json.dumps(nested, default=str)]
    if macro == "args_json_file":
        return [args_json_file] if args_json_file else []
    if macro.startswith("envvar:"):
        value = env.get(macro[len("envvar:") :])
        return [value] if value is not None else []
    return []  # unknown macro: W&B expands it to nothing (the spec warned at load time)
