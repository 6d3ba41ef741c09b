from datetime import timedelta

from uptimeguard.monitor.tracker import Rules, TrackerState, judge

RULES = Rules(interval=timedelta(minutes=5), recheck=timedelta(seconds=30), confirm=2, recover=2)


def run(outcomes: list[str], state: TrackerState | None = None):
    state = state or TrackerState()
    return state, [judge(state, outcome, RULES) for outcome in outcomes]


def test_one_failure_is_a_blip_rechecked_soon():
    state, (verdict,) = run(["http_5xx"])
    assert verdict.failing is None
    assert verdict.next_in == timedelta(seconds=30)
    assert state.state == "degraded"


def test_confirm_failures_in_a_row_open():
    state, verdicts = run(["http_5xx", "http_5xx"])
    assert [v.failing for v in verdicts] == [None, "http_5xx"]
    assert verdicts[-1].next_in == timedelta(minutes=5)
    assert state.state == "down"


def test_blip_then_good_resets_the_count():
    _, verdicts = run(["timeout", "up", "timeout"])
    assert all(v.failing is None for v in verdicts)


def test_outcomes_map_to_causes():
    _, verdicts = run(["refused", "reset"])
    assert verdicts[-1].failing == "down"


def test_new_cause_while_down_needs_confirming_too():
    _state, verdicts = run(["http_5xx", "http_5xx", "refused", "timeout"])
    assert [v.failing for v in verdicts] == [None, "http_5xx", None, "down"]


def test_recover_good_probes_resolve():
    state, verdicts = run(["http_5xx", "http_5xx", "up", "up", "up"])
    assert [v.recovered for v in verdicts] == [False, False, False, True, False]
    assert verdicts[2].next_in == timedelta(seconds=30)
    assert state.state == "up"


def test_failure_during_recovery_starts_over():
    state, verdicts = run(["http_5xx", "http_5xx", "up", "http_5xx", "up", "up"])
    # Still down (the incident stays open); the recovery count starts again.
    assert verdicts[3].failing is None and state.state == "up"
    assert [v.recovered for v in verdicts] == [False] * 5 + [True]


def test_slow_is_degraded_not_failing():
    state, (verdict,) = run(["slow"])
    assert verdict.failing is None and state.state == "degraded"


def test_restored_down_state_recovers():
    state = TrackerState(state="down", failures=3)
    state, verdicts = run(["up", "up"], state)
    assert verdicts[-1].recovered
