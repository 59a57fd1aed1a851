r"""The leaderboard's ``--where`` language: a parser from user text to a small immutable AST.

The AST never carries SQL text: :mod:`hypersweep.store._sql` compiles it to bound SQLAlchemy
expressions, so a filter can select trials but can never change the query around it.

Grammar (keywords are case-insensitive; precedence ``not`` > ``and`` > ``or``)::

    filter      := or_expr EOF
    or_expr     := and_expr ("or" and_expr)*
    and_expr    := not_expr ("and" not_expr)*
    not_expr    := "not" not_expr | "(" or_expr ")" | comparison
    comparison  := name cmp_op literal
                 | literal cmp_op name                      (flipped: 0.01 > params.lr)
                 | name ["not"] "in" "(" literal ("," literal)* ")"
                 | name "is" ["not"] "null"
                 | name ["not"] "like" string
    cmp_op      := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
    name        := ("params" | "metrics") "." part ("." part)*  |  state | number | objective | seed
                 | duration_s | study | started_at | finished_at | kind
    part        := [A-Za-z0-9_]+  |  "`" any text, "``" for a back-quote "`"
    literal     := number | string | "true" | "false" | "null"
    number      := -?(digits[.[digits]] | .digits)([eE][+-]?digits)?
    string      := '...' or "..." with \\ \' \" \n \t \r \% \_ escapes or a doubled quote

``params.optimizer.lr`` is ``Field("params", "optimizer.lr")`` and so is ``params.`optimizer.lr```.
In strings ``\%`` and ``\_`` are kept as written (backslash included) so a ``like`` pattern can match a
literal ``%`` or ``_`` when compiled with ``escape="\\"``.

``x not like 'p'`` parses to ``Not(Compare(x, "like", "p"))``. Comparing with ``null`` through ``=`` or
``!=`` is an error (SQL makes it never true); ``is null`` / ``is not null`` are the way.

Every problem raises :class:`~hypersweep.errors.QueryError` with the 1-based column of the offending
character and a short hint. A filter holds at most :data:`MAX_TERMS` terms (comparisons and ``in`` list
values) and nests at most 64 levels deep.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, TypeAlias

from hypersweep.errors import QueryError

__all__ = [
    "COLUMN_FIELDS",
    "MAX_TERMS",
    "And",
    "Compare",
    "Expr",
    "Field",
    "Literal_",
    "LiteralValue",
    "Not",
    "Or",
    "fields_used",
    "parse_filter",
]

#: Trial columns a filter may name without a prefix.
COLUMN_FIELDS: tuple[str, ...] = (
    "state",
    "number",
    "objective",
    "seed",
    "duration_s",
    "study",
    "started_at",
    "finished_at",
    "kind",
)
_PREFIXES: tuple[str, ...] = ("params", "metrics")
_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "null", "true", "false", "like"})
_MAX_DEPTH = 64
MAX_TERMS = 1000
"""At most this many comparisons and ``in`` list values in one filter (a longer filter is a
``QueryError``): both backends run every filter up to it (docs/sql.md)."""

LiteralValue: TypeAlias = int | float | str | bool | None


# --------------------------------------------------------------------------------------------- AST


@dataclass(frozen=True)
class Field:
    """A name in a filter: ``Field("params", "optimizer.lr")``, ``Field("column", "state")``."""

    kind: Literal["params", "metrics", "column"]
    key: str

    def __str__(self) -> str:
        return self.key if self.kind == "column" else f"{self.kind}.{self.key}"


@dataclass(frozen=True)
class Literal_:  # noqa: N801 - ``Literal`` is typing's
    """A literal operand while parsing; a :class:`Compare` stores the bare Python value."""

    value: LiteralValue


@dataclass(frozen=True)
class Compare:
    """``field op value``.

    ``op`` is one of ``= != < <= > >= in not_in is_null is_not_null like``; ``value`` is a Python
    literal, a tuple of literals for ``in``/``not_in``, ``None`` for ``is_null``/``is_not_null``.
    """

    field: Field
    op: str
    value: LiteralValue | tuple[LiteralValue, ...]


@dataclass(frozen=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    item: Expr


Expr: TypeAlias = Compare | And | Or | Not


def fields_used(expr: Expr, *, columns: bool = False) -> set[Field]:
    """The params and metrics fields ``expr`` reads; with ``columns=True`` the bare columns too."""
    out: set[Field] = set()
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Compare):
            if columns or node.field.kind != "column":
                out.add(node.field)
        elif isinstance(node, And | Or):
            stack.extend(node.items)
        elif isinstance(node, Not):
            stack.append(node.item)
    return out


# ------------------------------------------------------------------------------------------- lexer

_IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENT_CHARS = _IDENT_START | frozenset("0123456789")
_NUMBER_RE = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t", "r": "\r", "%": "\\%", "_": "\\_"}
_COMPARE_OPS = {"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_FLIPPED = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_BACKQUOTE_HINT = "back-quote names with other characters, e.g. metrics.`val/loss`"


@dataclass(frozen=True)
class _Token:
    kind: str  # NAME KW NUMBER STRING OP LPAREN RPAREN COMMA EOF
    text: str  # the source text (lower-cased for KW)
    pos: int  # 0-based offset of the first character
    value: object = None  # NAME: tuple[(part, offset), ...]; NUMBER/STRING: the Python value


class _Lexer:
    def __init__(self, text: str):
        self.text = text
        self.n = len(text)

    def error(self, message: str, pos: int) -> QueryError:
        return QueryError(message, expression=self.text, column=pos + 1)

    def tokens(self) -> Iterator[_Token]:
        """Tokens left to right; an invalid character raises when the parser reaches it."""
        text, i = self.text, 0
        while True:
            while i < self.n and text[i].isspace():
                i += 1
            if i >= self.n:
                yield _Token("EOF", "", len(text.rstrip()))
                return
            c = text[i]
            nxt = text[i + 1] if i + 1 < self.n else ""
            if c in _IDENT_START:
                tok = self._name(i)
            elif c.isdigit() or (c in "-." and _NUMBER_RE.match(text, i)):
                tok = self._number(i)
            elif c in "'\"":
                tok = self._string(i)
            elif c == "(":
                tok = _Token("LPAREN", c, i)
            elif c == ")":
                tok = _Token("RPAREN", c, i)
            elif c == ",":
                tok = _Token("COMMA", c, i)
            elif c in "=<>!":
                two = text[i : i + 2]
                if two in _COMPARE_OPS:
                    tok = _Token("OP", two, i)
                elif c == "!":
                    raise self.error("'!' is not an operator; use '!=' or 'not'", i)
                else:
                    tok = _Token("OP", c, i)
            elif c == ";":
                raise self.error("';' is not allowed: a filter is a single condition; remove it", i)
            elif (c == "-" and nxt == "-") or (c == "/" and nxt == "*") or c == "#":
                raise self.error("comments are not allowed in a filter; remove them", i)
            elif c == "`":
                raise self.error("a back-quoted name needs its prefix: params.`...` or metrics.`...`", i)
            elif c == "-":
                raise self.error(f"unexpected '-': a negative number is written -1; {_BACKQUOTE_HINT}", i)
            else:
                raise self.error(f"unexpected character {c!r}; {_BACKQUOTE_HINT}", i)
            i = tok.pos + len(tok.text)  # KW text is lower-cased ASCII: same length
            yield tok

    def _ident(self, i: int) -> int:
        while i < self.n and self.text[i] in _IDENT_CHARS:
            i += 1
        return i

    def _name(self, start: int) -> _Token:
        text = self.text
        i = self._ident(start)
        parts: list[tuple[str, int]] = [(text[start:i], start)]
        while i < self.n and text[i] == ".":
            i += 1
            if i < self.n and text[i] == "`":
                part, j = self._backquoted(i)
                parts.append((part, i))
                i = j
            elif i < self.n and text[i] in _IDENT_CHARS:
                j = self._ident(i)
                parts.append((text[i:j], i))
                i = j
            else:
                raise self.error(f"expected a name after '{text[start:i]}'; {_BACKQUOTE_HINT}", i)
        raw = text[start:i]
        if len(parts) == 1 and raw.lower() in _KEYWORDS:
            return _Token("KW", raw.lower(), start)
        return _Token("NAME", raw, start, tuple(parts))

    def _backquoted(self, start: int) -> tuple[str, int]:
        text, i, chars = self.text, start + 1, []
        while True:
            if i >= self.n:
                raise self.error("unterminated back-quoted name; close it with `", start)
            if text[i] == "`":
                if text[i + 1 : i + 2] == "`":
                    chars.append("`")
                    i += 2
                    continue
                break
            chars.append(text[i])
            i += 1
        if not chars:
            raise self.error("empty back-quoted name", start)
        return "".join(chars), i + 1

    def _number(self, start: int) -> _Token:
        m = _NUMBER_RE.match(self.text, start)
        if m is None:  # a digit always starts a match; kept for the type checker
            raise self.error("malformed number", start)
        raw = m.group()
        end = m.end()
        if end < self.n and (self.text[end] in _IDENT_CHARS or self.text[end] in ".`"):
            bad = self.text[start : max(self._ident(end), end + 1)]
            raise self.error(f"malformed number {bad!r}", start)
        value: int | float
        if any(ch in raw for ch in ".eE"):
            value = float(raw)
            if not math.isfinite(value):
                raise self.error(f"number {raw} is out of range", start)
        else:
            value = int(raw)
        return _Token("NUMBER", raw, start, value)

    def _string(self, start: int) -> _Token:
        text, quote = self.text, self.text[start]
        i, chars = start + 1, []
        while True:
            if i >= self.n:
                raise self.error(f"unterminated string; close it with {quote}", start)
            ch = text[i]
            if ch == "\\":
                if i + 1 >= self.n:
                    raise self.error(f"unterminated string; close it with {quote}", start)
                esc = text[i + 1]
                if esc not in _ESCAPES:
                    raise self.error(f"unknown escape '\\{esc}' in a string; write '\\\\' for a backslash", i)
                chars.append(_ESCAPES[esc])
                i += 2
            elif ch == quote:
                if text[i + 1 : i + 2] == quote:
                    chars.append(quote)
                    i += 2
                else:
                    break
            else:
                chars.append(ch)
                i += 1
        return _Token("STRING", text[start : i + 1], start, "".join(chars))


# ------------------------------------------------------------------------------------------ parser


def _did_you_mean(word: str, candidates: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def _describe(tok: _Token) -> str:
    if tok.kind == "EOF":
        return "the end of the filter"
    if tok.kind == "STRING":
        return f"the string {tok.text}"
    return f"'{tok.text}'"


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self._tokens = _Lexer(text).tokens()
        self.tok = next(self._tokens)
        self.depth = 0
        self.terms = 0

    def count(self, tok: _Token, n: int = 1) -> None:
        """Count ``n`` more terms at ``tok``; past :data:`MAX_TERMS` the filter is refused."""
        self.terms += n
        if self.terms > MAX_TERMS:
            raise self.error(
                f"the filter has more than {MAX_TERMS} terms (comparisons and 'in' values); split it, "
                "or use an 'in' list or a range such as params.x >= 1 and params.x <= 9",
                tok.pos,
            )

    # -- helpers

    def error(self, message: str, pos: int) -> QueryError:
        return QueryError(message, expression=self.text, column=pos + 1)

    def advance(self) -> _Token:
        tok = self.tok
        if tok.kind != "EOF":
            self.tok = next(self._tokens)
        return tok

    def at_kw(self, *words: str) -> bool:
        return self.tok.kind == "KW" and self.tok.text in words

    # -- boolean structure

    def parse(self) -> Expr:
        if self.tok.kind == "EOF":
            raise self.error("empty filter; write a condition such as params.lr < 0.01", 0)
        expr = self.parse_or("")
        if self.tok.kind == "RPAREN":
            raise self.error("unmatched ')'; remove it or add a '(' before", self.tok.pos)
        if self.tok.kind != "EOF":
            raise self.error(
                f"unexpected {_describe(self.tok)}; join conditions with 'and' or 'or'", self.tok.pos
            )
        return expr

    def parse_or(self, after: str) -> Expr:
        items = [self.parse_and(after)]
        while self.at_kw("or"):
            self.advance()
            items.append(self.parse_and("after 'or'"))
        return _flat(Or, items)

    def parse_and(self, after: str) -> Expr:
        items = [self.parse_not(after)]
        while self.at_kw("and"):
            self.advance()
            items.append(self.parse_not("after 'and'"))
        return _flat(And, items)

    def parse_not(self, after: str) -> Expr:
        tok = self.tok
        if tok.kind == "LPAREN" or self.at_kw("not"):
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                raise self.error(f"the filter is nested more than {_MAX_DEPTH} levels deep", tok.pos)
            self.advance()
            if tok.kind == "KW":
                expr: Expr = Not(self.parse_not("after 'not'"))
            else:
                expr = self.parse_or("after '('")
                if self.tok.kind != "RPAREN":
                    if self.tok.kind == "EOF":
                        msg = f"missing ')' to close the '(' at column {tok.pos + 1}"
                    else:
                        msg = f"expected ')' or 'and'/'or', found {_describe(self.tok)}"
                    raise self.error(msg, self.tok.pos)
                self.advance()
            self.depth -= 1
            return expr
        return self.parse_comparison(after)

    # -- comparisons

    def parse_comparison(self, after: str) -> Expr:
        tok = self.tok
        self.count(tok)
        if tok.kind == "NAME":
            self.advance()
            return self.parse_predicate(self.resolve(tok), tok)
        if self.is_literal(tok):
            return self.parse_flipped()
        where = f" {after}" if after else ""
        if tok.kind == "EOF":
            raise self.error(f"expected a condition{where}, such as params.lr < 0.01", tok.pos)
        raise self.error(
            f"expected a condition{where}, such as params.lr < 0.01; found {_describe(tok)}", tok.pos
        )

    def parse_predicate(self, field: Field, name_tok: _Token) -> Expr:
        tok = self.tok
        if tok.kind == "OP":
            self.advance()
            op = _COMPARE_OPS[tok.text]
            value_pos = self.tok.pos
            return self.compare(field, op, self.parse_value(field, tok), tok, value_pos)
        if self.at_kw("in"):
            self.advance()
            return Compare(field, "in", self.parse_list(tok))
        if self.at_kw("like"):
            self.advance()
            return Compare(field, "like", self.parse_pattern(tok))
        if self.at_kw("not"):
            self.advance()
            nxt = self.tok
            if self.at_kw("in"):
                self.advance()
                return Compare(field, "not_in", self.parse_list(nxt))
            if self.at_kw("like"):
                self.advance()
                return Not(Compare(field, "like", self.parse_pattern(nxt)))
            raise self.error(f"expected 'in' or 'like' after 'not', found {_describe(nxt)}", nxt.pos)
        if self.at_kw("is"):
            self.advance()
            op = "is_null"
            if self.at_kw("not"):
                self.advance()
                op = "is_not_null"
            if not self.at_kw("null"):
                hint = "; compare with true/false using '='" if self.at_kw("true", "false") else ""
                raise self.error(
                    f"expected 'null' after 'is': write 'is null' or 'is not null'{hint}", self.tok.pos
                )
            self.advance()
            return Compare(field, op, None)
        raise self.error(
            f"expected an operator such as = or < after {name_tok.text}, found {_describe(tok)}", tok.pos
        )

    def parse_flipped(self) -> Expr:
        lit_tok = self.advance()
        value = self.literal(lit_tok)
        op_tok = self.tok
        if op_tok.kind != "OP":
            if self.at_kw("in", "like", "is", "not"):
                msg = f"put the name on the left of '{op_tok.text}', e.g. params.x {op_tok.text} ..."
            else:
                msg = "a condition compares a name with a value, e.g. params.lr < 0.01"
            raise self.error(msg, lit_tok.pos)
        self.advance()
        name_tok = self.tok
        if self.is_literal(name_tok):
            raise self.error(
                "comparing two values is not allowed; one side must be a name such as params.lr or state",
                lit_tok.pos,
            )
        if name_tok.kind != "NAME":
            raise self.error(
                f"expected a name after '{op_tok.text}', found {_describe(name_tok)}", name_tok.pos
            )
        self.advance()
        field = self.resolve(name_tok)
        op = _FLIPPED[_COMPARE_OPS[op_tok.text]]
        return self.compare(field, op, value, op_tok, value_pos=lit_tok.pos)

    def compare(self, field: Field, op: str, value: LiteralValue, op_tok: _Token, value_pos: int) -> Compare:
        if value is None:
            fix = "is null" if op == "=" else "is not null" if op == "!=" else "is null / is not null"
            raise self.error(f"'{op_tok.text} null' is never true; write '{field} {fix}'", op_tok.pos)
        if isinstance(value, bool) and op not in ("=", "!="):
            raise self.error(f"true/false can only be compared with = or !=, not '{op_tok.text}'", value_pos)
        return Compare(field, op, value)

    def parse_value(self, field: Field, op_tok: _Token) -> LiteralValue:
        tok = self.tok
        if self.is_literal(tok):
            self.advance()
            return self.literal(tok)
        if tok.kind == "NAME" and self.is_field(tok):
            raise self.error(
                f"comparing two names is not supported; compare {field} with a value such as 0.01",
                tok.pos,
            )
        if tok.kind == "NAME":
            raise self.error(
                f"expected a value after '{op_tok.text}', found the name {tok.text}; quote text: '{tok.text}'",
                tok.pos,
            )
        raise self.error(f"expected a value after '{op_tok.text}', found {_describe(tok)}", tok.pos)

    def parse_pattern(self, like_tok: _Token) -> str:
        tok = self.tok
        if tok.kind != "STRING":
            raise self.error(
                f"'like' needs a quoted pattern such as 'adam%', found {_describe(tok)}", tok.pos
            )
        self.advance()
        assert isinstance(tok.value, str)
        return tok.value

    def parse_list(self, in_tok: _Token) -> tuple[LiteralValue, ...]:
        example = "in (1, 2)"
        if self.tok.kind != "LPAREN":
            raise self.error(
                f"'{in_tok.text}' needs a parenthesised list such as {example}, found {_describe(self.tok)}",
                self.tok.pos,
            )
        open_tok = self.advance()
        values: list[LiteralValue] = []
        kinds: set[str] = set()
        while True:
            tok = self.tok
            if tok.kind == "RPAREN" and not values:
                raise self.error(f"an 'in' list needs at least one value, such as {example}", tok.pos)
            if not self.is_literal(tok):
                what = "a value" if values else "a value after '('"
                if tok.kind == "NAME":
                    raise self.error(
                        f"an 'in' list holds values, not names; quote text: '{tok.text}'", tok.pos
                    )
                if tok.kind == "EOF":
                    raise self.error(f"missing ')' to close the '(' at column {open_tok.pos + 1}", tok.pos)
                raise self.error(f"expected {what}, found {_describe(tok)}", tok.pos)
            self.advance()
            if len(values) > 0:
                self.count(tok)  # the first value is the comparison's own term
            value = self.literal(tok)
            if value is None:
                raise self.error("null cannot be in an 'in' list; add 'or <name> is null'", tok.pos)
            kinds.add(_kind_of(value))
            if len(kinds) > 1:
                raise self.error("an 'in' list must not mix strings, numbers and true/false", tok.pos)
            values.append(value)
            if self.tok.kind == "COMMA":
                self.advance()
                continue
            if self.tok.kind == "RPAREN":
                self.advance()
                return tuple(values)
            if self.tok.kind == "EOF":
                raise self.error(f"missing ')' to close the '(' at column {open_tok.pos + 1}", self.tok.pos)
            raise self.error(f"expected ',' or ')' in the list, found {_describe(self.tok)}", self.tok.pos)

    # -- names and literals

    @staticmethod
    def is_literal(tok: _Token) -> bool:
        return tok.kind in ("NUMBER", "STRING") or (
            tok.kind == "KW" and tok.text in ("true", "false", "null")
        )

    @staticmethod
    def literal(tok: _Token) -> LiteralValue:
        if tok.kind == "KW":
            return {"true": True, "false": False, "null": None}[tok.text]
        assert isinstance(tok.value, int | float | str)
        return tok.value

    def resolve(self, tok: _Token) -> Field:
        parts = tok.value
        assert isinstance(parts, tuple)
        head, head_pos = parts[0]
        low = head.lower()
        if len(parts) == 1:
            if low in COLUMN_FIELDS:
                return Field("column", low)
            if low in _PREFIXES:
                raise self.error(f"'{head}' needs a name after it: {low}.<name>", head_pos)
            hint = _did_you_mean(low, COLUMN_FIELDS) or (
                f"names are params.<name>, metrics.<name> or one of {', '.join(COLUMN_FIELDS)}"
            )
            raise self.error(f"unknown field '{head}'; {hint}", head_pos)
        if low in _PREFIXES:
            kind: Literal["params", "metrics"] = "params" if low == "params" else "metrics"
            return Field(kind, ".".join(part for part, _ in parts[1:]))
        if low in COLUMN_FIELDS:
            raise self.error(f"'{head}' is a trial column and takes no '.key'", head_pos + len(head))
        hint = _did_you_mean(low, _PREFIXES) or "names start with params. or metrics."
        raise self.error(f"unknown prefix '{head}'; {hint}", head_pos)

    def is_field(self, tok: _Token) -> bool:
        try:
            self.resolve(tok)
        except QueryError:
            return False
        return True


def _kind_of(value: LiteralValue) -> str:
    if isinstance(value, bool):
        return "bool"
    return "str" if isinstance(value, str) else "number"


def _flat(cls: type[And] | type[Or], items: list[Expr]) -> Expr:
    if len(items) == 1:
        return items[0]
    flat: list[Expr] = []
    for item in items:
        flat.extend(item.items if isinstance(item, cls) else (item,))
    return cls(tuple(flat))


def parse_filter(text: str) -> Expr:
    """Parse a ``--where`` expression; raise :class:`~hypersweep.errors.QueryError` pointing at the column."""
    if not isinstance(text, str):
        raise QueryError(f"a filter is a string, not {type(text).__name__}")
    return _Parser(text).parse()
