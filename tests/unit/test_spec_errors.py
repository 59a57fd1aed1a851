"""Malformed sweep files: every violation at once, each with its line and a useful message."""

from __future__ import annotations

from pathlib import Path

import pytest

from hypersweep.errors import SpecError
from hypersweep.spec import load_spec, parse_spec

GOOD_TRIAL = "trial: {function: mod:train}\n"


def fail(text: str, tmp_path: Path | None = None, **kw) -> list:
    with pytest.raises(SpecError) as e:
        parse_spec(text, file="/x/s.yaml", check_files=False, **kw)
    assert e.value.file == "/x/s.yaml"
    return list(e.value.violations)


# (text, expected line, a fragment of the message, a fragment of the YAML path)
CASES = [
    pytest.param("parameters:\n\ta: {value: 1}\n", 2, "tab", "", id="tab"),
    pytest.param("parameters:\n  a: {value: 1}\n b: {value: 2}\n", 3, "indentation", "", id="bad-indent"),
    pytest.param(
        GOOD_TRIAL + "parameters:\n  a: {value: 1}\n  a: {value: 2}\n",
        4,
        "duplicate key 'a'",
        "parameters.a",
        id="duplicate-key",
    ),  # fmt: skip
    pytest.param(
        GOOD_TRIAL + "budgett: {trials: 3}\nparameters: {a: {value: 1}}\n",
        2,
        "did you mean 'budget'",
        "budgett",
        id="unknown-top-key",
    ),  # fmt: skip
    pytest.param(
        GOOD_TRIAL + "parameters:\n  lr: {type: float, low: 0.1, hihg: 1.0}\n",
        3,
        "did you mean 'high'",
        "parameters.lr.hihg",
        id="unknown-param-key",
    ),  # fmt: skip
    pytest.param(
        GOOD_TRIAL + "parameters:\n  lr: {type: flaot, low: 0, high: 1}\n",
        3,
        "did you mean 'float'",
        "parameters.lr.type",
        id="misspelled-type",
    ),  # fmt: skip
    pytest.param(
        "method: random\nprogram: t.py\nparameters:\n  lr: {distribution: unifrom, min: 0, max: 1}\n",
        4,
        "did you mean 'uniform'",
        "parameters.lr.distribution",
        id="misspelled-distribution",
    ),  # fmt: skip
    pytest.param(
        GOOD_TRIAL + "parameters:\n  lr:\n    type: float\n    low: 2.0\n    high: 1.0\n",
        5,
        "not below high",
        "parameters.lr.low",
        id="low-above-high",
    ),  # fmt: skip
    pytest.param(
        GOOD_TRIAL + "parameters:\n  lr: {type: float, low: 0, high: 1, log: true}\n",
        3,
        "log scale needs low > 0",
        "parameters.lr.low",
        id="log-low-zero",
    ),  # fmt: skip
    pytest.param(
        GOOD_TRIAL + "parameters:\n  a: {values: [x, y]}\n  b: {value: 1, when: {c: x}}\n",
        4,
        "not a parameter",
        "parameters.b.when.c",
        id="when-unknown",
    ),  # fmt: skip
    pytest.param(
        GOOD_TRIAL + "parameters:\n  a: {values: [x, y]}\n  b: {value: 1, when: {a: z}}\n",
        4,
        "'z' is not a value of 'a'",
        "parameters.b.when.a",
        id="when-bad-value",
    ),  # fmt: skip
    pytest.param(
        GOOD_TRIAL
        + "strategy: grid\nparameters:\n  a: {values: [1]}\n  lr: {type: float, low: 0, high: 1}\n",
        5,
        "cannot be part of a grid",
        "parameters.lr",
        id="grid-continuous",
    ),  # fmt: skip
    pytest.param(
        GOOD_TRIAL + "strategy: tpe\nparameters: {a: {values: [1, 2]}}\n",
        2,
        "tpe needs an objective",
        "strategy",
        id="tpe-no-objective",
    ),  # fmt: skip
    pytest.param("parameters: {a: {values: [1, 2]}}\n", 1, "trial.function", "trial", id="no-trial"),
    pytest.param(
        GOOD_TRIAL + "parameters:\n  a: {type: int, low: 1.0, high: 4}\n",
        3,
        "write 1, not 1.0",
        "parameters.a.low",
        id="int-float-bounds",
    ),  # fmt: skip
    pytest.param(
        GOOD_TRIAL + "parameters:\n  a: {type: float, low: 1, high: 4, log: true, step: 1}\n",
        3,
        "cannot be combined with `log",
        "parameters.a.step",
        id="log-with-step",
    ),  # fmt: skip
    pytest.param(
        GOOD_TRIAL + "parameters:\n  a.b: {value: 1}\n",
        3,
        "no dots",
        "parameters.a.b",
        id="dotted-native-name",
    ),  # fmt: skip
    pytest.param(
        "trial: {command: [python, t.py, '--x={y}']}\nparameters: {x: {value: 1}}\n",
        1,
        "names no parameter",
        "trial.command[2]",
        id="template-unknown",
    ),  # fmt: skip
    pytest.param(
        "trial: {command: [python, t.py, '--x={x']}\nparameters: {x: {value: 1}}\n",
        1,
        "unclosed",
        "trial.command[2]",
        id="template-unclosed",
    ),  # fmt: skip
    pytest.param(
        GOOD_TRIAL + "budget: {timeout: soon}\nparameters: {a: {value: 1}}\n",
        2,
        "not a duration",
        "budget.timeout",
        id="bad-duration",
    ),  # fmt: skip
    pytest.param(
        GOOD_TRIAL + "early_stopping: {type: median, min_resource: 3}\nparameters: {a: {value: 1}}\n",
        2,
        "does not apply to median",
        "early_stopping.min_resource",
        id="es-wrong-option",
    ),  # fmt: skip
    pytest.param(
        "method: bayes\nprogram: t.py\nparameters: {a: {values: [1, 2]}}\n",
        1,
        "bayes needs a `metric`",
        "method",
        id="bayes-no-metric",
    ),  # fmt: skip
    pytest.param(
        "method: custom\nprogram: t.py\nparameters: {a: {values: [1, 2]}}\n",
        1,
        "custom is not supported",
        "method",
        id="method-custom",
    ),  # fmt: skip
    pytest.param(
        "method: grid\nparameters: {a: {values: [1, 2]}}\n",
        1,
        "needs `program` or `command`",
        "program",
        id="wandb-no-program",
    ),  # fmt: skip
    pytest.param(
        "metric: {name: loss}\nprogram: t.py\nparameters: {a: {values: [1]}}\n",
        1,
        "without `method:`",
        "",
        id="wandb-without-method",
    ),  # fmt: skip
    pytest.param(
        GOOD_TRIAL + "parameters:\n  x: !!python/object/apply:os.system [ls]\n",
        3,
        "unsupported YAML tag",
        "parameters.x",
        id="unsafe-tag",
    ),  # fmt: skip
]


@pytest.mark.parametrize(("text", "line", "message", "path"), CASES)
def test_malformed(text, line, message, path):
    violations = fail(text)
    match = [v for v in violations if message in v.message]
    assert match, [str(v) for v in violations]
    v = match[0]
    assert v.line == line, str(v)
    assert v.path == path, str(v)
    assert v.file == "/x/s.yaml"


@pytest.mark.parametrize(
    "text",
    ["- just\n- a list\n", "", "hello\n", "name: x\ndescription: nothing\n"],
    ids=["list", "empty", "scalar", "no-parameters"],
)
def test_neither_format(text):
    (v,) = fail(text)
    assert "neither a hypersweep sweep file nor a W&B sweep config" in v.message


def test_three_mistakes_reported_together():
    text = GOOD_TRIAL + (
        "budget: {trials: 0}\n"  # line 2
        "parameters:\n"
        "  lr: {type: float, low: 1, high: 0}\n"  # line 4
        "  k: {type: categorcal, values: [a]}\n"  # line 5
    )
    violations = fail(text)
    assert [v.line for v in violations] == [2, 4, 5]
    assert "must be >= 1" in violations[0].message
    assert "did you mean 'categorical'" in violations[2].message
    text_out = str(SpecError(violations, file="/x/s.yaml"))
    assert "3 problems" in text_out and "/x/s.yaml:4:" in text_out


def test_missing_module_located(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("parameters: {a: {value: 1}}\ntrial:\n  function: nowhere_at_all:train\n")
    with pytest.raises(SpecError) as e:
        load_spec(f)
    (v,) = e.value.violations
    assert v.line == 3 and v.path == "trial.function" and "nowhere_at_all" in v.message
    assert v.file == str(f)


def test_missing_file():
    with pytest.raises(SpecError, match="no such sweep file"):
        load_spec("/definitely/not/here.yaml")
