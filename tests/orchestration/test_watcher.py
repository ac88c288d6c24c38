"""The watcher's pure logic, without Airflow or dbt running: how dbt's NodeFinished events become
one result per model (``NodeResults``), how a result is judged (``judge``), and what a model's
task and trigger do with a result, or with none (``DbtModelTask._finish``, ``DbtNodeTrigger.run``).
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowSkipException
from airflow.triggers.base import TaskSkippedEvent, TaskSuccessEvent, TriggerEvent

from loyalty.orchestration import watcher
from loyalty.orchestration.watcher import DbtModelTask, DbtNodeTrigger, NodeResults, judge, status_key

MODEL = "model.loyalty.mart_churn"
UPSTREAM = "model.loyalty.fct_orders"
TEST_A = "test.loyalty.not_null_mart_churn_period_start.1"
TEST_B = "test.loyalty.relationships_mart_churn_customer.2"  # also a test of UPSTREAM


# --- NodeResults: dbt events -> one XCom per model --------------------------------------------------
def finished(unique_id: str, status: str, *, resource_type: str | None = None, message: str | None = None,
             failures: int = 0, relation: str | None = None, event: str = "NodeFinished") -> Any:
    """A dbt NodeFinished event as the dbt runner's callback receives it (the attributes read)."""
    kind = resource_type or unique_id.split(".")[0]
    return SimpleNamespace(
        info=SimpleNamespace(name=event),
        data=SimpleNamespace(
            node_info=SimpleNamespace(
                unique_id=unique_id, node_name=unique_id.rsplit(".", 1)[-1] if kind != "test" else unique_id.split(".")[2],
                resource_type=kind, node_status=status, node_started_at="2026-11-21T02:00:00Z",
                node_finished_at="2026-11-21T02:00:01Z", node_relation=SimpleNamespace(relation_name=relation),
                materialized="table" if kind == "model" else None),
            run_result=SimpleNamespace(status=status, execution_time=1.23456, message=message, num_failures=failures),
        ),
    )


class Pushes:
    def __init__(self) -> None:
        self.pushed: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, key: str, value: Any) -> None:
        self.pushed.append((key, value))


def test_a_model_without_tests_is_pushed_when_it_finishes() -> None:
    push = Pushes()
    results = NodeResults({}, push)
    results.on_event(finished(MODEL, "success", relation='"wh"."marts"."mart_churn"'))
    assert len(push.pushed) == 1
    key, entry = push.pushed[0]
    assert key == status_key(MODEL) == "node__model__loyalty__mart_churn"
    assert entry["status"] == "success" and entry["tests"] == [] and entry["execution_time"] == 1.235
    assert entry["relation"] == '"wh"."marts"."mart_churn"' and entry["materialized"] == "table"


def test_a_model_with_tests_is_pushed_once_its_last_test_finished() -> None:
    push = Pushes()
    results = NodeResults({MODEL: [TEST_A, TEST_B], UPSTREAM: [TEST_B]}, push)
    results.on_event(finished(UPSTREAM, "success"))
    results.on_event(finished(MODEL, "success"))
    assert push.pushed == []  # neither has all its tests yet
    results.on_event(finished(TEST_B, "pass"))
    assert [k for k, _ in push.pushed] == [status_key(UPSTREAM)]  # a test of two models completes the one it can
    results.on_event(finished(TEST_A, "fail", failures=3, message="Got 3 results"))
    assert [k for k, _ in push.pushed] == [status_key(UPSTREAM), status_key(MODEL)]
    entry = push.pushed[-1][1]
    assert [t["unique_id"] for t in entry["tests"]] == [TEST_A, TEST_B]  # in the manifest's order
    assert entry["tests"][0]["status"] == "fail" and entry["tests"][0]["failures"] == 3


def test_a_stopped_build_gives_every_unreported_model_a_skipped_result() -> None:
    """dbt reports nothing for a node it never reached: the build pushes a skipped result for it,
    so the model's task skips quietly, naming the reason, instead of missing its XCom."""
    push = Pushes()
    other = "model.loyalty.mart_membership"
    results = NodeResults({MODEL: [TEST_A, TEST_B], UPSTREAM: [TEST_B]}, push)
    results.on_event(finished(UPSTREAM, "success"))
    results.on_event(finished(TEST_B, "pass"))  # UPSTREAM complete: pushed
    results.on_event(finished(MODEL, "success"))  # built, but TEST_A never ran
    assert results.push_unreported([UPSTREAM, MODEL, other], "not built: the build stopped") == 2
    pushed = dict(push.pushed)
    assert set(pushed) == {status_key(UPSTREAM), status_key(MODEL), status_key(other)}
    built = pushed[status_key(MODEL)]
    assert built["status"] == "success" and [t["status"] for t in built["tests"]] == ["skipped", "pass"]
    assert judge(built)[0] == "success"  # a skipped test of a built model is no failure
    never = pushed[status_key(other)]
    assert never["status"] == "skipped" and never["message"] == "not built: the build stopped" and never["tests"] == []
    assert judge(never)[0] == "skipped" and "not built: the build stopped" in " ".join(judge(never)[1])
    assert results.push_unreported([UPSTREAM, MODEL, other], "again") == 0  # each model once


def test_a_test_that_finishes_before_its_model_waits_for_it() -> None:
    push = Pushes()
    results = NodeResults({MODEL: [TEST_A]}, push)
    results.on_event(finished(TEST_A, "pass"))
    assert push.pushed == []
    results.on_event(finished(MODEL, "success"))
    assert [k for k, _ in push.pushed] == [status_key(MODEL)]


def test_seeds_and_snapshots_are_pushed_like_models_and_other_events_are_ignored() -> None:
    push = Pushes()
    results = NodeResults({}, push)
    results.on_event(finished("seed.loyalty.calendar", "success"))
    results.on_event(finished("snapshot.loyalty.members", "success"))
    results.on_event(finished(MODEL, "success", event="NodeStart"))
    results.on_event(finished("operation.loyalty.on-run-end", "success", resource_type="operation"))
    assert [k for k, _ in push.pushed] == [status_key("seed.loyalty.calendar"), status_key("snapshot.loyalty.members")]


def test_an_unreadable_event_never_breaks_the_build(caplog: pytest.LogCaptureFixture) -> None:
    push = Pushes()
    NodeResults({}, push).on_event(SimpleNamespace(info=SimpleNamespace(name="NodeFinished"), data=None))
    assert push.pushed == [] and "could not read a dbt NodeFinished event" in caplog.text


def test_failures_name_failed_models_and_tests_only() -> None:
    results = NodeResults({MODEL: [TEST_A, TEST_B]}, Pushes())
    results.on_event(finished(UPSTREAM, "error", message="Binder Error: column x not found " + "x" * 400))
    results.on_event(finished(MODEL, "skipped"))
    results.on_event(finished(TEST_A, "fail", failures=3))
    results.on_event(finished(TEST_B, "warn", failures=1))
    results.on_event(finished("test.loyalty.unique_x.3", "pass"))
    lines = results.failures()
    assert len(lines) == 2
    assert lines[0].startswith("model fct_orders: error: Binder Error: column x not found")
    assert len(lines[0]) < 350  # the message is cut to 300 characters
    assert lines[1] == "test not_null_mart_churn_period_start: fail (3 failing rows)"


# --- judge: a model's result -> success / failed / skipped ------------------------------------------
def result(status: str = "success", tests: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {"unique_id": MODEL, "name": "mart_churn", "resource_type": "model", "status": status,
            "started_at": "2026-11-21T02:00:00Z", "finished_at": "2026-11-21T02:00:01Z", "execution_time": 1.5,
            "message": None, "failures": 0, "relation": None, "materialized": "table", "tests": tests or [], **extra}


def dbt_test(name: str, status: str, failures: int = 0) -> dict[str, Any]:
    """A data test's entry in a model's result."""
    return {"name": name, "status": status, "execution_time": 0.25, "failures": failures}


def test_judge_success_without_tests() -> None:
    outcome, lines = judge(result())
    assert outcome == "success"
    assert lines[0] == ("model mart_churn: success in 1.50 s (started 2026-11-21T02:00:00Z, finished "
                        "2026-11-21T02:00:01Z)")
    assert lines[-1] == "  0 tests passed; dbt's full log: task dbt.dbt_build"


def test_judge_success_shows_the_relation_and_every_test() -> None:
    outcome, lines = judge(result(relation='"marts"."mart_churn"', tests=[dbt_test("a", "pass"),
                                                                          dbt_test("b", "warn", 2)]))
    assert outcome == "success"  # a warning is not a failure
    assert lines[0].endswith(', table "marts"."mart_churn"')
    assert lines[1:3] == ["  test a: pass in 0.25 s", "  test b: warn in 0.25 s, 2 failing rows"]
    assert lines[3] == "  2 tests passed; dbt's full log: task dbt.dbt_build"


def test_judge_model_error() -> None:
    outcome, lines = judge(result("error", message="Runtime Error: division by zero"))
    assert outcome == "failed"
    assert "  dbt: Runtime Error: division by zero" in lines


def test_judge_test_failure_fails_a_built_model() -> None:
    outcome, lines = judge(result(tests=[dbt_test("a", "pass"), dbt_test("b", "fail", 7)]))
    assert outcome == "failed"
    assert "  test b: fail in 0.25 s, 7 failing rows" in lines
    assert not any("tests passed" in line for line in lines)


def test_judge_test_error_fails_a_built_model() -> None:
    assert judge(result(tests=[dbt_test("a", "error")]))[0] == "failed"


def test_judge_skipped_model() -> None:
    outcome, lines = judge(result("skipped", tests=[dbt_test("a", "skipped")]))
    assert outcome == "skipped"
    assert lines[0].startswith("model mart_churn: skipped")


def test_judge_a_skipped_test_of_a_built_model_is_no_failure() -> None:
    # a relationships test is skipped when its other parent failed: that model reports it
    assert judge(result(tests=[dbt_test("a", "pass"), dbt_test("b", "skipped")]))[0] == "success"


# --- the model's task: a result, or none --------------------------------------------------------
@pytest.fixture()
def model_task() -> DbtModelTask:
    return DbtModelTask(task_id="mart_churn", model_unique_id=MODEL, producer_task_id="dbt.dbt_build")


def test_task_succeeds_on_a_successful_result(model_task: DbtModelTask) -> None:
    model_task._finish(result(tests=[dbt_test("a", "pass")]), "running")


def test_task_fails_naming_the_model_error_and_what_to_do(model_task: DbtModelTask) -> None:
    with pytest.raises(AirflowException, match=r"model mart_churn failed: Runtime Error: boom\. Fix it, then clear "
                                               r"task dbt\.dbt_build with its downstream tasks"):
        model_task._finish(result("error", message="Runtime Error: boom"), "failed")


def test_task_fails_naming_the_failed_tests(model_task: DbtModelTask) -> None:
    with pytest.raises(AirflowException, match=r"model mart_churn built, but its tests failed: b, c\."):
        model_task._finish(result(tests=[dbt_test("a", "pass"), dbt_test("b", "fail", 1),
                                         dbt_test("c", "error")]), "failed")


def test_task_is_skipped_when_dbt_skipped_the_model(model_task: DbtModelTask) -> None:
    with pytest.raises(AirflowSkipException, match="skipped by dbt, a model or test upstream of it failed"):
        model_task._finish(result("skipped"), "failed")


def test_task_without_a_result_after_a_successful_build_succeeds(model_task: DbtModelTask) -> None:
    model_task._finish(None, "success")  # dbt did not run it: an ephemeral or disabled model


@pytest.mark.parametrize("producer_state", ["failed", "upstream_failed", "skipped", "removed"])
def test_task_without_a_result_after_a_build_that_did_not_succeed_is_skipped(model_task: DbtModelTask,
                                                                              producer_state: str) -> None:
    with pytest.raises(AirflowSkipException, match=f"not built, the night's dbt build ended {producer_state} before it "
                                                   r"\(see task dbt\.dbt_build\)"):
        model_task._finish(None, producer_state)


# --- the trigger: waits in the triggerer, ends there unless the model failed --------------------------
def first_event(monkeypatch: pytest.MonkeyPatch, polls: list[tuple[Any, str | None]]) -> tuple[TriggerEvent, int]:
    """The trigger's first event when ``poll_result`` answers ``polls`` in turn; and how many polls."""
    answers = iter(polls)
    calls = []

    def poll(dag_id: str, run_id: str, producer: str, model: str) -> tuple[Any, str | None]:
        calls.append((dag_id, run_id, producer, model))
        return next(answers)

    monkeypatch.setattr(watcher, "poll_result", poll)
    trigger = DbtNodeTrigger(MODEL, "dbt.dbt_build", poll_s=0.0, dag_id="loyalty_nightly", run_id="r1")

    async def first() -> TriggerEvent:
        return await anext(trigger.run())  # type: ignore[arg-type]

    event = asyncio.run(first())
    assert all(c == ("loyalty_nightly", "r1", "dbt.dbt_build", MODEL) for c in calls)
    return event, len(calls)


def test_trigger_waits_then_ends_in_success(monkeypatch: pytest.MonkeyPatch) -> None:
    event, polls = first_event(monkeypatch, [(None, "running"), (None, "running"), (result(), None)])
    assert isinstance(event, TaskSuccessEvent) and polls == 3


def test_trigger_skips_a_skipped_model(monkeypatch: pytest.MonkeyPatch) -> None:
    event, _ = first_event(monkeypatch, [(result("skipped"), None)])
    assert isinstance(event, TaskSkippedEvent)


def test_trigger_hands_a_failure_to_a_worker_with_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    failed = result("error", message="boom")
    event, _ = first_event(monkeypatch, [(failed, None)])
    assert type(event) is TriggerEvent and event.payload == {"result": failed}


def test_trigger_without_a_result_after_a_successful_build_succeeds(monkeypatch: pytest.MonkeyPatch) -> None:
    event, _ = first_event(monkeypatch, [(None, "success")])
    assert isinstance(event, TaskSuccessEvent)


def test_trigger_without_a_result_after_a_failed_build_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    event, _ = first_event(monkeypatch, [(None, "failed")])
    assert isinstance(event, TaskSkippedEvent)
