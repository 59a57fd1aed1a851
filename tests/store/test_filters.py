"""``--where`` filters at the store, on every backend: long filters, the term limit, ``like``'s case."""

from __future__ import annotations

import pytest

from hypersweep.errors import QueryError, SweepNotFoundError
from hypersweep.records import NewTrial, TrialOutcome, TrialState
from hypersweep.store import Store, parse_filter
from hypersweep.store._filter import MAX_TERMS

from .conftest import new_study


@pytest.fixture
def study_id(store: Store) -> int:
    sid = store.create_study(new_study()).study_id
    names = ["Adam", "adam", "sgd", "a%b", "a_b", "x*y", "[z]"]
    trials = store.create_trials(
        sid, [NewTrial(params={"x": i, "opt": names[i % len(names)]}, seed=i) for i in range(14)]
    )
    store.finish_trials(
        [TrialOutcome(t.trial_id, TrialState.COMPLETE, objective=float(i)) for i, t in enumerate(trials)]
    )
    return sid


def _numbers(store: Store, sid: int, where: str) -> list[int]:
    rows = store.top_trials([sid], where=parse_filter(where), limit=None)
    return sorted(t.number for t in rows if t.number is not None)


@pytest.mark.parametrize("field", ["params.x", "number"])
def test_a_filter_of_max_terms_runs(store: Store, study_id: int, field: str) -> None:
    where = " or ".join(f"{field} = {i}" for i in range(MAX_TERMS - 1)) + f" or {field} = 3"
    assert _numbers(store, study_id, where) == list(range(14))
    where = " and ".join(f"{field} != {i + 100}" for i in range(MAX_TERMS))
    assert _numbers(store, study_id, where) == list(range(14))


def test_past_the_limit_is_a_query_error_with_a_caret() -> None:
    assert MAX_TERMS >= 500
    with pytest.raises(QueryError, match=f"more than {MAX_TERMS} terms") as exc:
        parse_filter(" or ".join(f"params.x = {i}" for i in range(MAX_TERMS + 100)))
    assert exc.value.exit_code == 2 and exc.value.column is not None and "^" in str(exc.value)
    with pytest.raises(QueryError, match="terms"):
        parse_filter("params.x in (" + ", ".join(str(i) for i in range(MAX_TERMS + 1)) + ")")
    parse_filter("params.x in (" + ", ".join(str(i) for i in range(MAX_TERMS)) + ")")


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("'adam'", [1, 8]),  # case-sensitive: not "Adam"
        ("'Ad%'", [0, 7]),
        ("'a%'", [1, 3, 4, 8, 10, 11]),
        ("'a\\%b'", [3, 10]),  # an escaped % is a literal %
        ("'a\\_b'", [4, 11]),
        ("'a_b'", [3, 4, 10, 11]),
        ("'x*y'", [5, 12]),  # * ? [ are plain characters
        ("'[z]'", [6, 13]),
        ("'%*%'", [5, 12]),
    ],
)
def test_like_is_case_sensitive_on_every_backend(
    store: Store, study_id: int, pattern: str, expected: list[int]
) -> None:
    assert _numbers(store, study_id, f"params.opt like {pattern}") == expected


def test_a_missing_trial_error_names_the_study(store: Store, study_id: int) -> None:
    with pytest.raises(SweepNotFoundError, match="study 'digits-svc'"):
        store.get_trial(study_id, 99)
