"""Line-aware safe YAML loading.

:func:`load_yaml` composes the document with PyYAML's *safe* loader (the C one when available), then
builds plain Python values itself so that it can

* remember where every key and value is (1-based line and column, keyed by YAML path),
* refuse duplicate keys (PyYAML silently keeps the last one),
* read plain scalars such as ``1e-5`` (strings in YAML 1.1) as floats, remembering where it did so,
* refuse documents whose aliases expand past :data:`MAX_NODES` values ("billion laughs") or refer to
  themselves, before anything walks the expanded tree (see docs/sweep-file.md, "Limits").

Nothing here ever constructs arbitrary Python objects: unknown tags are errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

__all__ = ["MAX_NODES", "Loc", "YamlDoc", "YamlFailure", "load_yaml", "parse_scalar", "path_str"]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path = tuple[str | int, ...]
Loc = tuple[int, int]  # (line, column), both 1-based

# YAML 1.2 floats that YAML 1.1 (PyYAML) leaves as strings: 1e-5, 1E5, -2e+3, .5e-3, 5.e3 ...
_FLOAT_RE = re.compile(r"^[-+]?(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)[eE][-+]?\d+$")
_STR_TAG = "tag:yaml.org,2002:str"
# every value counts once per place it appears after alias expansion; real sweep files hold a few hundred
MAX_NODES = 100_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


def path_str(path: Path) -> str:
    """``("parameters", "lr", "low")`` -> ``parameters.lr.low``; list indexes as ``[2]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass
class YamlFailure:
    """Why a document could not be read at all."""

    message: str
    line: int | None = None
    column: int | None = None
    path: str = ""


@dataclass
class YamlDoc:
    data: Any = None
    key_locs: dict[Path, Loc] = field(default_factory=dict)  # where the key naming a path is
    value_locs: dict[Path, Loc] = field(default_factory=dict)  # where the value at a path starts
    coerced_floats: list[Path] = field(default_factory=list)  # plain 1e-5 style strings read as floats
    failures: list[YamlFailure] = field(default_factory=list)


class _Builder:
    def __init__(self, doc: YamlDoc) -> None:
        self.doc = doc
        self.constructor = _Loader("")  # only its (safe) scalar constructors are used
        self.seen: dict[int, Any] = {}  # anchors: node id -> value

    def build(self, node: yaml.Node, path: Path) -> Any:
        mark = node.start_mark
        self.doc.value_locs.setdefault(path, (mark.line + 1, mark.column + 1))
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        key = id(node)
        if key in self.seen:  # an alias: the value was built already
            return self.seen[key]
        if isinstance(node, yaml.SequenceNode):
            if node.tag not in ("tag:yaml.org,2002:seq",):
                self.unknown_tag(node, path)
            items: list[Any] = []
            self.seen[key] = items
            for i, child in enumerate(node.value):
                items.append(self.build(child, (*path, i)))
            return items
        if isinstance(node, yaml.MappingNode):
            if node.tag not in ("tag:yaml.org,2002:map",):
                self.unknown_tag(node, path)
            result: dict[Any, Any] = {}
            self.seen[key] = result
            merged: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    value = self.build(value_node, path)
                    for src in value if isinstance(value, list) else [value]:
                        if isinstance(src, dict):
                            for k, v in src.items():
                                merged.setdefault(k, v)
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    self.fail("a mapping key must be a plain value, not a list or mapping", key_node, path)
                    continue
                k = self.scalar(key_node, path, is_key=True)
                try:
                    hash(k)
                except TypeError:
                    k = str(k)
                kmark = key_node.start_mark
                child_path = (*path, k if isinstance(k, str) else str(k))
                if k in result:
                    first = self.doc.key_locs.get(child_path)
                    where = f" (first at line {first[0]})" if first else ""
                    self.fail(f"duplicate key {k!r}{where}: remove one of them", key_node, child_path)
                    continue
                self.doc.key_locs[child_path] = (kmark.line + 1, kmark.column + 1)
                result[k] = self.build(value_node, child_path)
            for k, v in merged.items():
                result.setdefault(k, v)
            return result
        self.fail("unsupported YAML node", node, path)  # pragma: no cover
        return None

    def scalar(self, node: yaml.ScalarNode, path: Path, is_key: bool = False) -> Any:
        if node.tag == _STR_TAG:
            if not node.style and not is_key and _FLOAT_RE.match(node.value):
                self.doc.coerced_floats.append(path)
                return float(node.value.replace("_", ""))
            return node.value
        constructor = self.constructor.yaml_constructors.get(node.tag)
        if constructor is None or node.tag.startswith("tag:yaml.org,2002:python"):
            self.unknown_tag(node, path)
            return node.value
        try:
            return constructor(self.constructor, node)
        except (yaml.YAMLError, ValueError, TypeError) as e:
            self.fail(f"cannot read value {node.value!r}: {e}", node, path)
            return node.value

    def unknown_tag(self, node: yaml.Node, path: Path) -> None:
        self.fail(f"unsupported YAML tag {node.tag!r}: sweep files hold plain data only", node, path)

    def fail(self, message: str, node: yaml.Node, path: Path) -> None:
        m = node.start_mark
        self.doc.failures.append(YamlFailure(message, m.line + 1, m.column + 1, path_str(path)))


def _explain(e: yaml.MarkedYAMLError, text: str) -> YamlFailure:
    mark = e.problem_mark or e.context_mark
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    problem = e.problem or ""
    src_line = ""
    if line is not None:
        lines = text.splitlines()
        if 0 < line <= len(lines):
            src_line = lines[line - 1]
    if (
        "\t" in problem
        or "'\\t'" in problem
        or (column and src_line[: column - 1].strip() == "" and "\t" in src_line)
    ):
        msg = "tab character: YAML indents with spaces only; replace the tab with spaces"
    elif "mapping values are not allowed" in problem:
        msg = (
            "bad indentation or a missing space after ':' "
            "(a key's value must be indented under it, and 'key: value' needs a space)"
        )
    elif "expected <block end>" in problem or "did not find expected key" in problem:
        msg = "bad indentation: this line does not line up with the keys above it"
    elif "could not find expected ':'" in problem:
        msg = "expected 'key: value' here (is a ':' missing, or a quote not closed?)"
    else:
        context = f"{e.context}, " if e.context else ""
        msg = f"invalid YAML: {context}{problem}".strip()
    return YamlFailure(msg, line, column)


def load_yaml(text: str) -> YamlDoc:
    """Read one YAML document safely; problems land in ``doc.failures`` (never raises for bad YAML)."""
    doc = YamlDoc()
    if "\t" in text:
        # PyYAML's message for a tab in indentation is obscure; find it ourselves, then still try to parse
        for i, raw in enumerate(text.splitlines(), 1):
            stripped = raw.lstrip(" ")
            if stripped.startswith("\t"):
                doc.failures.append(
                    YamlFailure(
                        "tab character in indentation: YAML indents with spaces only; replace it with spaces",
                        i,
                        len(raw) - len(stripped) + 1,
                    )
                )
        if doc.failures:
            return doc
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        doc.failures.append(_explain(e, text))
        return doc
    except yaml.reader.ReaderError as e:  # a character YAML does not allow, located by its offset
        line = text.count("\n", 0, e.position) + 1
        column = e.position - (text.rfind("\n", 0, e.position) + 1) + 1
        char = f"U+{e.character:04X}" if isinstance(e.character, int) else repr(e.character)
        doc.failures.append(
            YamlFailure(
                f"character {char} is not allowed in YAML (control characters and the like): remove it",
                line,
                column,
            )
        )
        return doc
    except yaml.YAMLError as e:  # pragma: no cover - every other PyYAML error we know is marked
        doc.failures.append(YamlFailure(f"invalid YAML: {e}", 1, None))
        return doc
    if node is None:
        doc.data = None
        return doc
    problem = _measure(node)
    if problem is not None:
        doc.failures.append(problem)
        return doc
    doc.data = _Builder(doc).build(node, ())
    return doc


def _children(node: yaml.Node) -> list[tuple[str | int, yaml.Node]]:
    if isinstance(node, yaml.SequenceNode):
        return list(enumerate(node.value))
    if isinstance(node, yaml.MappingNode):
        out: list[tuple[str | int, yaml.Node]] = []
        for k, v in node.value:
            name = str(k.value) if isinstance(k, yaml.ScalarNode) else "?"
            out.append((name, k))
            out.append((name, v))
        return out
    return []


def _measure(root: yaml.Node) -> YamlFailure | None:
    """Refuse a self-referencing alias, or aliases that expand the document past :data:`MAX_NODES` values.

    Sizes are counted once per distinct node (memoised), so this is linear in the document's text even when
    its expansion is exponential.
    """
    size: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[yaml.Node, Path, bool]] = [(root, (), False)]
    while stack:
        node, path, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            size[key] = min(1 + sum(size[id(c)] for _, c in _children(node)), MAX_NODES + 1)
            continue
        if key in size:
            continue
        if key in active:
            m = node.start_mark
            return YamlFailure(
                f"this alias refers to its own anchor (at line {m.line + 1}): a value cannot contain itself; "
                "write the value out instead",
                m.line + 1,
                m.column + 1,
                path_str(path),
            )
        active.add(key)
        stack.append((node, path, True))
        for part, child in reversed(_children(node)):
            stack.append((child, (*path, part), False))
    if size[id(root)] <= MAX_NODES:
        return None
    node, path = root, ()  # point at the smallest value that is over the limit by itself
    while True:
        big = [(part, c) for part, c in _children(node) if size[id(c)] > MAX_NODES]
        if not big:
            break
        part, node = big[0]
        path = (*path, part)
    m = node.start_mark
    if len(size) > MAX_NODES:  # that many distinct values were written out: no alias to blame
        what = f"this value holds more than {MAX_NODES:,} values"
        fix = "use a range (low/high with step) instead of listing the values"
    else:
        what = f"aliases (*name) expand this value to more than {MAX_NODES:,} values"
        fix = "write the values out, or use fewer nested aliases"
    return YamlFailure(
        f"{what}: sweep files are limited to {MAX_NODES:,} values after alias expansion; {fix}",
        m.line + 1,
        m.column + 1,
        path_str(path),
    )


def parse_scalar(text: str) -> tuple[Any, str | None]:
    """Parse a ``--set`` value as YAML (safe); returns (value, error)."""
    doc = load_yaml(text)
    if doc.failures:
        f = doc.failures[0]
        return None, f.message
    return doc.data, None
