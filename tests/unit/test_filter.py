"""The ``--where`` parser: grammar, AST shape, and errors that point at the right column."""

from __future__ import annotations

import dataclasses

import pytest

from hypersweep.errors import QueryError
from hypersweep.store._filter import (
    And,
    Compare,
    Field,
    Literal_,
    Not,
    Or,
    fields_used,
    parse_filter,
)

P = lambda key: Field("params", key)  # noqa: E731
M = lambda key: Field("metrics", key)  # noqa: E731
C = lambda key: Field("column", key)  # noqa: E731


# ------------------------------------------------------------------------------------ structure


def test_contract_example():
    expr = parse_filter("params.lr < 0.01 and (metrics.val_accuracy >= 0.9 or state = 'pruned')")
    assert expr == And(
        (
            Compare(P("lr"), "<", 0.01),
            Or((Compare(M("val_accuracy"), ">=", 0.9), Compare(C("state"), "=", "pruned"))),
        )
    )


def test_and_binds_tighter_than_or():
    a, b, c = "params.a = 1", "params.b = 2", "params.c = 3"
    ca, cb, cc = Compare(P("a"), "=", 1), Compare(P("b"), "=", 2), Compare(P("c"), "=", 3)
    assert parse_filter(f"{a} or {b} and {c}") == Or((ca, And((cb, cc))))
    assert parse_filter(f"{a} and {b} or {c}") == Or((And((ca, cb)), cc))


def test_not_binds_tighter_than_and():
    expr = parse_filter("not params.a = 1 and params.b = 2")
    assert expr == And((Not(Compare(P("a"), "=", 1)), Compare(P("b"), "=", 2)))
    assert parse_filter("not not state = 'x'") == Not(Not(Compare(C("state"), "=", "x")))


def test_parentheses_override_precedence():
    expr = parse_filter("(params.a = 1 or params.b = 2) and params.c = 3")
    assert expr == And((Or((Compare(P("a"), "=", 1), Compare(P("b"), "=", 2))), Compare(P("c"), "=", 3)))
    expr = parse_filter("not (params.a = 1 or params.b = 2)")
    assert expr == Not(Or((Compare(P("a"), "=", 1), Compare(P("b"), "=", 2))))
    assert parse_filter("((((state = 'x'))))") == Compare(C("state"), "=", "x")


def test_chains_flatten():
    expr = parse_filter("seed = 1 and seed = 2 and (seed = 3 and seed = 4)")
    assert expr == And(tuple(Compare(C("seed"), "=", i) for i in (1, 2, 3, 4)))
    expr = parse_filter("seed = 1 or (seed = 2 or seed = 3)")
    assert expr == Or(tuple(Compare(C("seed"), "=", i) for i in (1, 2, 3)))


# ----------------------------------------------------------------------------------- operators


@pytest.mark.parametrize(
    ("text", "op"),
    [
        ("=", "="),
        ("==", "="),
        ("!=", "!="),
        ("<>", "!="),
        ("<", "<"),
        ("<=", "<="),
        (">", ">"),
        (">=", ">="),
    ],
)
def test_comparison_operators(text, op):
    assert parse_filter(f"metrics.loss {text} 0.5") == Compare(M("loss"), op, 0.5)
    assert parse_filter(f"metrics.loss{text}0.5") == Compare(M("loss"), op, 0.5)


@pytest.mark.parametrize(
    ("text", "op"),
    [("=", "="), ("!=", "!="), ("<>", "!="), ("<", ">"), ("<=", ">="), (">", "<"), (">=", "<=")],
)
def test_literal_on_the_left_flips(text, op):
    assert parse_filter(f"0.01 {text} params.lr") == Compare(P("lr"), op, 0.01)


def test_flipped_contract_example():
    assert parse_filter("0.01 > params.lr") == Compare(P("lr"), "<", 0.01)
    assert parse_filter("'pruned' = state") == Compare(C("state"), "=", "pruned")


def test_in_and_not_in():
    assert parse_filter("params.opt in ('adam', 'sgd')") == Compare(P("opt"), "in", ("adam", "sgd"))
    assert parse_filter("params.n not in (1, 2, 3)") == Compare(P("n"), "not_in", (1, 2, 3))
    assert parse_filter("params.n in (7)") == Compare(P("n"), "in", (7,))
    assert parse_filter("params.n in (1, -2.5, 1e3)") == Compare(P("n"), "in", (1, -2.5, 1000.0))
    assert parse_filter("params.flag in (true, false)") == Compare(P("flag"), "in", (True, False))


def test_is_null_and_is_not_null():
    assert parse_filter("metrics.loss is null") == Compare(M("loss"), "is_null", None)
    assert parse_filter("finished_at is not null") == Compare(C("finished_at"), "is_not_null", None)


def test_like_and_not_like():
    assert parse_filter("params.opt like 'ad%'") == Compare(P("opt"), "like", "ad%")
    assert parse_filter("params.opt not like '_gd'") == Not(Compare(P("opt"), "like", "_gd"))
    # \% and \_ stay escaped for the compiler's ESCAPE '\'
    assert parse_filter(r"study like '50\%\_off'") == Compare(C("study"), "like", "50\\%\\_off")


def test_keywords_are_case_insensitive():
    expr = parse_filter(
        "NOT params.a IS NULL AnD params.b NoT In (1) Or params.c Is Not Null "
        "and params.d LIKE 'x' and params.e = TRUE and params.f = False"
    )
    assert expr == Or(
        (
            And((Not(Compare(P("a"), "is_null", None)), Compare(P("b"), "not_in", (1,)))),
            And(
                (
                    Compare(P("c"), "is_not_null", None),
                    Compare(P("d"), "like", "x"),
                    Compare(P("e"), "=", True),
                    Compare(P("f"), "=", False),
                )
            ),
        )
    )


# ------------------------------------------------------------------------------------ literals


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("-3", -3),
        ("0", 0),
        ("3.25", 3.25),
        ("-0.5", -0.5),
        (".5", 0.5),
        ("-.5", -0.5),
        ("2.", 2.0),
        ("1e-3", 0.001),
        ("1E3", 1000.0),
        ("-2.5e+2", -250.0),
        ("12345678901234567890", 12345678901234567890),
    ],
)
def test_numbers(text, value):
    expr = parse_filter(f"params.x = {text}")
    assert expr == Compare(P("x"), "=", value)
    assert type(expr.value) is type(value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("'adam'", "adam"),
        ('"adam"', "adam"),
        ("''", ""),
        ("'it''s'", "it's"),
        ('"say ""hi"""', 'say "hi"'),
        (r"'it\'s'", "it's"),
        (r'"a\"b"', 'a"b'),
        (r"'back\\slash'", "back\\slash"),
        (r"'tab\tnl\ncr\r'", "tab\tnl\ncr\r"),
        ("'\"double\" inside single'", '"double" inside single'),
        ("'and or not ; -- drop'", "and or not ; -- drop"),
        ("'ünïcödé ✓'", "ünïcödé ✓"),
    ],
)
def test_strings(text, value):
    assert parse_filter(f"params.x = {text}") == Compare(P("x"), "=", value)


def test_booleans_keep_their_type():
    expr = parse_filter("params.x = true")
    assert expr.value is True
    assert parse_filter("params.x != FALSE").value is False


# --------------------------------------------------------------------------------------- names


def test_bare_columns():
    for name in (
        "state",
        "number",
        "objective",
        "seed",
        "duration_s",
        "study",
        "started_at",
        "finished_at",
        "kind",
    ):
        assert parse_filter(f"{name} is null") == Compare(C(name), "is_null", None)
    assert parse_filter("STATE = 'complete'") == Compare(C("state"), "=", "complete")


def test_nested_dotted_params():
    assert parse_filter("params.optimizer.lr < 1") == Compare(P("optimizer.lr"), "<", 1)
    assert parse_filter("params.model.layers.0.units = 64") == Compare(P("model.layers.0.units"), "=", 64)
    assert parse_filter("Params.Opt.LR = 1").field == P("Opt.LR")  # the key keeps its case


def test_back_quoted_names():
    assert parse_filter("metrics.`val/loss` < 0.2") == Compare(M("val/loss"), "<", 0.2)
    assert parse_filter("params.`optimizer.lr` = 1") == Compare(P("optimizer.lr"), "=", 1)
    assert parse_filter("params.model.`drop-out` = 0.1").field == P("model.drop-out")
    assert parse_filter("metrics.`a``b c` = 1").field == M("a`b c")
    assert parse_filter("metrics.`and` = 1").field == M("and")
    assert parse_filter("params.in = 1").field == P("in")


def test_fields_used():
    expr = parse_filter(
        "params.lr < 0.01 and not (metrics.`val/loss` > 1 or state = 'x') and params.lr > 0 and seed in (1)"
    )
    assert fields_used(expr) == {P("lr"), M("val/loss")}
    assert fields_used(expr, columns=True) == {P("lr"), M("val/loss"), C("state"), C("seed")}


def test_nodes_are_frozen_and_hashable():
    expr = parse_filter("params.a in (1, 2) and not params.b is null")
    with pytest.raises(dataclasses.FrozenInstanceError):
        expr.items = ()
    assert hash(expr) == hash(parse_filter("params.a in (1, 2) and not params.b is null"))
    assert Literal_(1.5).value == 1.5


# -------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        # injection attempts: stopped at the first character that is not part of the language
        ("params.x = '1'; drop table trials", 15, "';' is not allowed"),
        ("state = 'a' or 1=1 --", 16, "comparing two values"),
        ("state = 'a' --", 13, "comments are not allowed"),
        ("state = 'a' /* x */", 13, "comments are not allowed"),
        ("state = 'a' union select * from trials", 13, "join conditions with 'and' or 'or'"),
        ("state = 'a'' or ''1'='1", 21, "join conditions"),  # the quotes are doubled: one string
        ("state = 'a' or '1'='1'", 16, "comparing two values"),
        ("state = 'a\\' or 1=1", 9, "unterminated string"),  # \' escapes the quote
        ("state = 'a\\\\' or 1=1", 18, "comparing two values"),  # \\ is a backslash
        ("params.x = 1 or 1 = 1", 17, "comparing two values"),
        # trailing junk, empty, unterminated
        ("params.x = 1;", 13, "';' is not allowed"),
        ("", 1, "empty filter"),
        ("   ", 1, "empty filter"),
        ("params.x = 'abc", 12, "unterminated string"),
        ('params.x = "abc\\"', 12, "unterminated string"),
        ("metrics.`val/loss < 1", 9, "unterminated back-quoted"),
        ("metrics.`` < 1", 9, "empty back-quoted"),
        # dangling operators and missing pieces
        ("params.lr <", 12, "expected a value after '<'"),
        ("params.lr < 0.1 and", 20, "expected a condition after 'and'"),
        ("params.lr < 0.1 or ", 19, "expected a condition after 'or'"),
        ("not", 4, "expected a condition after 'not'"),
        ("params.lr", 10, "expected an operator"),
        ("params.lr 0.1", 11, "expected an operator"),
        ("params.lr = = 1", 13, "expected a value after '='"),
        ("params.lr = 1 params.b = 2", 15, "join conditions"),
        ("and params.x = 1", 1, "expected a condition"),
        ("params.", 8, "expected a name after 'params.'"),
        ("params.x. = 1", 10, "expected a name after 'params.x.'"),
        # parentheses
        ("(params.x = 1", 14, "missing ')' to close the '(' at column 1"),
        ("params.x = 1)", 13, "unmatched ')'"),
        ("()", 2, "expected a condition after '('"),
        ("(params.x = 1 params.y = 2)", 15, "expected ')'"),
        # comparing literals / names
        ("1 = 1", 1, "comparing two values"),
        ("'a' < 'b'", 1, "comparing two values"),
        ("params.a = params.b", 12, "comparing two names"),
        ("0.1 < 0.2 < params.x", 1, "comparing two values"),
        ("state = pruned", 9, "quote text: 'pruned'"),
        ("1", 1, "compares a name with a value"),
        # names
        ("stat = 'x'", 1, "did you mean 'state'?"),
        ("param.lr < 1", 1, "did you mean 'params'?"),
        ("metric.loss < 1", 1, "did you mean 'metrics'?"),
        ("lr < 1", 1, "params.<name>"),
        ("params = 1", 1, "needs a name after it"),
        ("state.x = 1", 6, "takes no '.key'"),
        ("metrics.val/loss < 1", 12, "back-quote"),
        ("metrics.val-loss < 1", 12, "back-quote"),
        ("`val` = 1", 1, "needs its prefix"),
        # operators
        ("params.x ! 1", 10, "use '!=' or 'not'"),
        ("params.x is 1", 13, "is null"),
        ("params.x is true", 13, "using '='"),
        ("params.x not = 1", 14, "expected 'in' or 'like' after 'not'"),
        ("params.x in 1", 13, "parenthesised list"),
        ("params.x in ()", 14, "at least one value"),
        ("params.x in (1, 2,)", 19, "expected a value"),
        ("params.x in (1 2)", 16, "expected ',' or ')'"),
        ("params.x in (1, 2", 18, "missing ')'"),
        ("params.x in (1, null)", 17, "null cannot be in an 'in' list"),
        ("params.x in (1, 'a')", 17, "must not mix"),
        ("params.x in (1, params.y)", 17, "values, not names"),
        ("params.x like 5", 15, "quoted pattern"),
        ("1 in (1, 2)", 1, "put the name on the left of 'in'"),
        # null and booleans
        ("params.x = null", 10, "write 'params.x is null'"),
        ("params.x != null", 10, "write 'params.x is not null'"),
        ("null = params.x", 6, "write 'params.x is null'"),
        ("params.x < true", 12, "only be compared with = or !="),
        # lexical
        ("params.x = 1.2.3", 12, "malformed number"),
        ("params.x = 1abc", 12, "malformed number"),
        ("params.x = 1e999", 12, "out of range"),
        ("params.x = 'C:\\data'", 15, "unknown escape"),
        ("params.x = - 1", 12, "unexpected '-'"),
        ("params.x = 1 && params.y = 2", 14, "unexpected character '&'"),
    ],
)
def test_malformed_inputs(text, column, fragment):
    with pytest.raises(QueryError) as info:
        parse_filter(text)
    err = info.value
    assert err.column == column, str(err)
    assert fragment in str(err)
    assert err.expression == text


def test_error_message_points_with_a_caret():
    with pytest.raises(QueryError) as info:
        parse_filter("params.x = '1'; drop table trials")
    lines = str(info.value).splitlines()
    assert lines[1] == "  params.x = '1'; drop table trials"
    assert lines[2] == "  " + " " * 14 + "^"


def test_errors_report_the_leftmost_problem():
    # the comparison of two literals comes before the comment
    with pytest.raises(QueryError) as info:
        parse_filter("state = 'a' or 1=1; --")
    assert info.value.column == 16


def test_deep_nesting_is_an_error_not_a_crash():
    with pytest.raises(QueryError, match="nested more than"):
        parse_filter("(" * 500 + "state = 'x'" + ")" * 500)
    with pytest.raises(QueryError, match="nested more than"):
        parse_filter("not " * 500 + "state = 'x'")
    assert parse_filter("(" * 30 + "state = 'x'" + ")" * 30) == Compare(C("state"), "=", "x")


def test_non_string_input():
    with pytest.raises(QueryError, match="a filter is a string"):
        parse_filter(None)  # type: ignore[arg-type]


# -- property: any text is a filter or a QueryError with a caret, never another exception ----------------
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PIECES = st.sampled_from(
    [
        "params.lr",
        "metrics.acc",
        "params.`a.b`",
        "state",
        "number",
        "objective",
        "study",
        "kind",
        "started_at",
        "and",
        "or",
        "not",
        "in",
        "is",
        "null",
        "like",
        "true",
        "false",
        "(",
        ")",
        ",",
        "=",
        "==",
        "!=",
        "<>",
        "<",
        "<=",
        ">",
        ">=",
        "1",
        "-2.5e3",
        ".5",
        "1e400",
        "'adam%'",
        '"x"',
        "'it''s'",
        "'\\%'",
        "`",
        "'",
        '"',
        "\\",
        "params.",
        "metrics..x",
        "0x1",
        "nan",
        "--",
        ";",
    ]
)
_FILTERS = st.one_of(
    st.text(max_size=200),
    st.lists(_PIECES, max_size=40).map(" ".join),
    st.lists(st.one_of(_PIECES, st.text(max_size=4)), max_size=30).map("".join),
)


@given(_FILTERS)
def test_any_text_is_a_filter_or_a_query_error_with_a_caret(text: str) -> None:
    try:
        expr = parse_filter(text)
    except QueryError as e:
        assert e.column is not None and 1 <= e.column <= len(text) + 1, (text, str(e))
        assert str(e).rstrip().endswith("^") or text == ""  # nothing to point at in an empty filter
        return
    assert isinstance(expr, Compare | And | Or | Not)
