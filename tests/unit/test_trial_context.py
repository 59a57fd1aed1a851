"""The trial context's reports when nobody listens yet (the Ray hub starts late) and when it does."""

from __future__ import annotations

from hypersweep.trial._context import TrialContext, TrialInfo


def _ctx(answers: list[bool | None], sent: list) -> TrialContext:
    def push(points, log):  # type: ignore[no-untyped-def]
        answer = answers.pop(0)
        if answer is not None:
            sent.append((points, log))
        return answer

    info = TrialInfo(study="s", number=0, params={}, seed=0)
    return TrialContext(info=info, push=push, sync=True)


def test_undelivered_reports_and_output_are_kept_for_the_next_flush() -> None:
    sent: list = []
    ctx = _ctx([None, None, False], sent)
    ctx.add_log("line 1\n")
    ctx.add(0, {"loss": 1.0})  # sync: flushes, nobody listens
    ctx.add(1, {"loss": 0.5})  # again nobody
    assert sent == [] and not ctx.pushed
    ctx.add(2, {"loss": 0.25})  # the hub is there now: everything, in order
    assert sent == [([("loss", 0, 1.0), ("loss", 1, 0.5), ("loss", 2, 0.25)], "line 1\n")]
    assert ctx.pushed and not ctx.pruned and ctx.take_pending() == []


def test_reports_never_delivered_come_back_with_the_result() -> None:
    sent: list = []
    ctx = _ctx([None, None], sent)
    ctx.add(0, {"acc": 0.1})
    ctx.add(1, {"acc": 0.2})
    assert ctx.take_pending() == [("acc", 0, 0.1), ("acc", 1, 0.2)]
    assert not ctx.pushed
