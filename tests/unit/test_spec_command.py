"""build_argv: native templates and every W&B macro."""

from __future__ import annotations

import json

import pytest

from hypersweep.spec import Param, build_argv

FLAT = {
    "lr": 0.1,
    "flag": True,
    "off": False,
    "net": [32, 32],
    "optimizer.name": "adam",
    "optimizer.beta": 0.9,
}


# optimizer.* come from a nested `parameters:` block: W&B passes it as one key holding a dict
NESTED_SPACE = [
    Param("optimizer.name", "constant", "constant", value="adam", path=("optimizer", "name")),
    Param("optimizer.beta", "constant", "constant", value=0.9, path=("optimizer", "beta")),
]


def argv(template, params=FLAT, **kw):
    if params is FLAT:
        kw.setdefault("space", NESTED_SPACE)
    kw.setdefault("program", "train.py")
    kw.setdefault("interpreter", "/usr/bin/python3")
    return build_argv(template, params, **kw)


def test_native_template():
    out = argv(["python", "t.py", "--lr={lr}", "--net={net}", "{{literal}}", "--x={missing}", "{flag}-{off}"])
    assert out == ["python", "t.py", "--lr=0.1", "--net=[32, 32]", "{literal}", "True-False"]


def test_template_dotted_names_and_inactive():
    assert argv(["--o={optimizer.name}", "--depth={depth}"]) == ["--o=adam"]


@pytest.mark.parametrize(
    ("macro", "expected"),
    [
        ("${env}", []),
        ("${interpreter}", ["/usr/bin/python3"]),
        ("${program}", ["train.py"]),
        (
            "${args}",
            [
                "--lr=0.1",
                "--flag=True",
                "--off=False",
                "--net=[32, 32]",
                "--optimizer={'name': 'adam', 'beta': 0.9}",
            ],
        ),
        (
            "${args_no_hyphens}",
            ["lr=0.1", "flag=True", "off=False", "net=[32, 32]", "optimizer={'name': 'adam', 'beta': 0.9}"],
        ),
        (
            "${args_no_boolean_flags}",
            ["--lr=0.1", "--flag", "--net=[32, 32]", "--optimizer={'name': 'adam', 'beta': 0.9}"],
        ),
        (
            "${args_no_equals}",
            [
                "--lr",
                "0.1",
                "--flag",
                "True",
                "--off",
                "False",
                "--net",
                "[32, 32]",
                "--optimizer",
                "{'name': 'adam', 'beta': 0.9}",
            ],  # fmt: skip
        ),
        (
            "${args_append_hydra}",
            [
                "+lr=0.1",
                "+flag=True",
                "+off=False",
                "+net=[32, 32]",
                "+optimizer={'name': 'adam', 'beta': 0.9}",
            ],
        ),  # fmt: skip
        ("${args_json_file}", ["/tmp/args.json"]),
        ("${envvar:MY_VAR}", ["hello"]),
        ("${envvar:UNSET_VAR}", ["UNSET_VAR"]),  # W&B's agent leaves the name when the variable is unset
        ("${unknown}", []),
    ],
)
def test_macros(macro, expected):
    out = argv([macro], args_json_file="/tmp/args.json", environ={"MY_VAR": "hello"})
    assert out == expected


def test_args_json():
    (item,) = argv(["${args_json}"])
    assert json.loads(item) == {"lr": 0.1, "flag": True, "off": False, "net": [32, 32], "optimizer": {"name": "adam", "beta": 0.9}}  # fmt: skip


def test_default_wandb_command_and_missing_program():
    template = ["${env}", "${interpreter}", "${program}", "${args}"]
    assert argv(template, {"a": 1}) == ["/usr/bin/python3", "train.py", "--a=1"]
    assert argv(template, {"a": 1}, program=None) == ["/usr/bin/python3", "--a=1"]
    assert argv(["${args_json_file}"], {"a": 1}) == []


def test_macro_only_when_whole_item():
    # W&B items are stored brace-escaped by the spec, so a partial macro stays literal text
    assert argv(["--x=${{args}}", "pre${{program}}"], {"a": 1}) == ["--x=${args}", "pre${program}"]
    assert argv(["--x=${args}"], {"args": 1}) == ["--x=$1"]  # in a native template it is a placeholder


def test_nested_input_and_literal_dot_names():
    config = {"optimizer": {"lr": 0.1}}
    out = argv(["${args}", "{optimizer.lr}"], {"optimizer.lr": 0.1}, config=config)
    assert out == ["--optimizer={'lr': 0.1}", "0.1"]
    space = [Param("model.depth", "categorical", "categorical", values=(1, 2), path=("model.depth",))]
    assert argv(["${args_no_hyphens}"], {"model.depth": 2}, space=space) == ["model.depth=2"]
    nested = [Param("model.depth", "categorical", "categorical", values=(1, 2), path=("model", "depth"))]
    assert argv(["${args_no_hyphens}"], {"model.depth": 2}, space=nested) == ["model={'depth': 2}"]


def test_dotted_names_are_never_folded():
    """Before the fix a flat ``model.depth`` became ``model={'depth': 2}`` unless ``space`` was given, and
    only when no other value was a dict: the argv depended on the method and the other parameters."""
    assert argv(["${args_no_hyphens}"], {"model.depth": 2}) == ["model.depth=2"]
    flat = {"model.depth": 2, "model.lr": 0.1}
    for macro, want in [
        ("${args}", ["--model.depth=2", "--model.lr=0.1"]),
        ("${args_no_equals}", ["--model.depth", "2", "--model.lr", "0.1"]),
        ("${args_append_hydra}", ["+model.depth=2", "+model.lr=0.1"]),
        ("${args_override_hydra}", ["++model.depth=2", "++model.lr=0.1"]),
        ("${args_json}", ['{"model.depth": 2, "model.lr": 0.1}']),
    ]:
        assert argv([macro], flat) == want, macro


def test_envvar_anywhere_in_an_item_as_wandb():
    env = {"DATA_DIR": "/data", "ODD": "{x}"}
    # W&B items are stored brace-escaped (the spec escapes them); native items write ${{envvar:...}} alike
    out = argv(
        ["--data=${{envvar:DATA_DIR}}/train", "${{envvar:NOPE}}", "${envvar:ODD}", "{lr}"], environ=env
    )
    assert out == ["--data=/data/train", "NOPE", "{x}", "0.1"]
    # only the template is read: a param value cannot pull in the environment
    assert argv(["--x={v}"], {"v": "${envvar:DATA_DIR}"}, environ=env) == ["--x=${envvar:DATA_DIR}"]


def test_environ_defaults_to_os(monkeypatch):
    monkeypatch.setenv("HS_TEST_VAR", "v")
    assert argv(["${envvar:HS_TEST_VAR}"], {}) == ["v"]
