"""Property test of the argv renderer: whatever the params, argv is a list of str items, never a shell
string, and each W&B macro renders exactly W&B's agent rule (``f"{key}={value}"`` with ``str()``)."""

from __future__ import annotations

import json
import string

from hypothesis import given
from hypothesis import strategies as st

from hypersweep.spec import MACROS, Param, args_json, build_argv, trial_config

NAME = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_.-]{0,12}\Z")
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(alphabet=string.printable + "äß€ ", max_size=20),  # shell metacharacters included
)
VALUE = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=3), max_leaves=6)
PARAMS = st.dictionaries(NAME, VALUE, max_size=6)
WHOLE = [f"${{{m}}}" for m in MACROS if m != "envvar"]


@given(
    params=PARAMS,
    template=st.lists(st.sampled_from([*WHOLE, "--x", "{{lit}}", "$(rm -rf /)", "a b"]), max_size=8),
)
def test_argv_is_a_list_of_str_items(params, template):
    argv = build_argv(
        template, params, program="train.py", interpreter="/py", args_json_file="/tmp/a.json", environ={}
    )
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv)
    # literal items pass through as one item each, whatever they hold: nothing is split or joined
    for literal in ("$(rm -rf /)", "a b", "--x"):
        assert argv.count(literal) >= template.count(literal)


@given(params=PARAMS)
def test_macros_follow_wandbs_rule(params):
    def render(macro: str) -> list[str]:
        return build_argv([macro], params, program=None, interpreter="/py", environ={})

    assert render("${args}") == [f"--{k}={v}" for k, v in params.items()]
    assert render("${args_no_hyphens}") == [f"{k}={v}" for k, v in params.items()]
    assert render("${args_no_equals}") == [x for k, v in params.items() for x in (f"--{k}", str(v))]
    assert render("${args_override_hydra}") == [f"++{k}={v}" for k, v in params.items()]
    flags = render("${args_no_boolean_flags}")
    assert flags == [f"--{k}" if v is True else f"--{k}={v}" for k, v in params.items() if v is not False]
    (doc,) = render("${args_json}")
    assert json.loads(doc) == json.loads(json.dumps(params)) and doc == args_json(params)


@given(params=st.dictionaries(NAME, SCALAR, min_size=1, max_size=6))
def test_flat_wandb_names_are_one_key_each(params):
    """A flat W&B name, dots and all, is one config key and one argv item: never folded."""
    space = [Param(k, "constant", "constant", value=v, path=(k,)) for k, v in params.items()]
    config = trial_config(space, params, wandb=True)
    assert config == params and list(config) == sorted(params)
    assert build_argv(["${args}"], params, config=config, program=None, interpreter="/py") == [
        f"--{k}={params[k]}" for k in sorted(params)
    ]
