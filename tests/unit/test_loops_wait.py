"""Several loops are awaited together: one round of checks describes every loop not yet ended."""

from __future__ import annotations

from helpers import loops


class FakeA2I:
    """Loops that end after a given number of describes each, with a final status."""

    def __init__(self, plan: dict[str, tuple[int, str]]) -> None:
        self.plan = plan
        self.calls: list[str] = []

    def describe_human_loop(self, HumanLoopName: str) -> dict:
        self.calls.append(HumanLoopName)
        after, final = self.plan[HumanLoopName]
        seen = self.calls.count(HumanLoopName)
        status = final if seen >= after else "InProgress"
        desc = {"HumanLoopName": HumanLoopName, "HumanLoopStatus": status}
        if status == "Failed":
            desc["FailureCode"] = "Expired"
        return desc


def test_loops_are_awaited_together_and_an_ended_one_is_not_asked_again(monkeypatch):
    slept: list[float] = []
    real = loops.wait_until
    monkeypatch.setattr(loops, "wait_until", lambda *a, **k: real(*a, sleep=slept.append, **k))
    a2i = FakeA2I({"a": (2, "Completed"), "b": (3, "Failed"), "c": (1, "Completed")})
    table = loops.wait(a2i, ["a", "b", "c"], timeout=3600)
    assert table.to_dict("records") == [
        {"HumanLoopName": "a", "HumanLoopStatus": "Completed", "FailureCode": ""},
        {"HumanLoopName": "b", "HumanLoopStatus": "Failed", "FailureCode": "Expired"},
        {"HumanLoopName": "c", "HumanLoopStatus": "Completed", "FailureCode": ""},
    ]
    # three rounds, as many as the slowest loop needs (not 2 + 3 + 1 of them one after another)
    assert len(slept) == 2
    # round 1 asks all three; round 2 a and b; round 3 only b (a and c had ended)
    assert a2i.calls == ["a", "b", "c", "a", "b", "b"]


def test_no_loops_means_no_wait():
    a2i = FakeA2I({})
    assert loops.wait(a2i, [], timeout=1).empty
    assert a2i.calls == []
