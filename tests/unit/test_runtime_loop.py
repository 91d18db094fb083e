"""SPEC 12: the spool and wait_for_approval, and the hash-chained decision log."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from armgit.runtime import ALLOW, DENY, NEEDS_APPROVAL
from armgit.runtime.actions import REJECT, ActionError, parse_request
from armgit.runtime.decisions import DecisionLog, LogError, read_records, verify_log
from armgit.runtime.spool import Spool, SpoolError
from tests.index_helpers import NOW
from tests.unit.test_runtime_actions import ALICE, BOB, CALL, approve, runtime


def pending(rt: Any) -> dict[str, Any]:
    request = rt.evaluate("arm-dev", "prod", **CALL).request
    assert request is not None
    return dict(request)


def test_wait_returns_the_decision_the_spool_holds(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    rt = runtime(spool=tmp_path / "spool", decision_log=tmp_path / "log.jsonl")
    request = pending(rt)
    spool.answer(parse_approval_of(request, "arm-dev/alice"))
    decision = rt.wait_for_approval(request, timeout=0)
    assert decision.decision == ALLOW
    assert decision.approvers == ("arm-dev/alice",)
    assert not (tmp_path / "spool/requests").exists() or not any(
        (tmp_path / "spool/requests").iterdir()
    )
    assert (tmp_path / "spool/decided" / f"{request['requestId'][7:]}.json").is_file()
    records = list(read_records(tmp_path / "log.jsonl"))
    assert [(r["type"], r["decision"], r["outcome"]) for r in records] == [
        ("APPROVAL_REQUESTED", NEEDS_APPROVAL, None),
        ("APPROVAL_DECIDED", ALLOW, "approved"),
    ]
    assert records[1]["requestId"] == request["requestId"]
    assert records[1]["approvals"] == ["arm-dev/alice"]


def parse_approval_of(request: dict[str, Any], who: str, **kw: Any) -> Any:
    from armgit.runtime.actions import parse_approval

    key = ALICE if who.endswith("alice") else BOB
    return parse_approval(approve(request, who, key, **kw))


def test_wait_denies_on_a_reject_and_on_timeout(tmp_path: Path) -> None:
    clock = [NOW]
    rt = runtime(clock=clock, spool=tmp_path, decision_log=tmp_path / "log.jsonl")
    request = pending(rt)
    Spool(tmp_path).answer(parse_approval_of(request, "arm-dev/bob", decision=REJECT))
    assert rt.wait_for_approval(request, timeout=0).decision == DENY

    waiting = pending(rt)
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # the clock moves when the runtime sleeps
        slept.append(seconds)
        clock[0] += seconds

    decision = rt.loop.wait(rt._decide_request, waiting, 2.0, 0.5, lambda: clock[0], sleep)
    assert decision.decision == DENY
    assert "timed out" in decision.reasons[0]
    assert sum(slept) == pytest.approx(2.0)
    last = list(read_records(tmp_path / "log.jsonl"))[-1]
    assert (last["type"], last["outcome"]) == ("TOOL_CALL_BLOCKED", "timed-out")


def test_wait_needs_a_spool() -> None:
    rt = runtime()
    with pytest.raises(ActionError, match="no spool"):
        rt.wait_for_approval(pending(rt), timeout=0)


def test_the_spool_reports_foreign_files_and_leaves_them(tmp_path: Path) -> None:
    rt = runtime()
    spool = Spool(tmp_path)
    request = parse_request(pending(rt))
    spool.submit(request)
    requests = tmp_path / "requests"
    (requests / "README").write_text("hi")
    (requests / ("0" * 64 + ".json")).write_text("{}")
    renamed = dict(request.to_json())
    (requests / ("1" * 64 + ".json")).write_text(json.dumps(renamed))
    found, foreign = spool.pending()
    assert [r.request_id for r in found] == [request.request_id]
    assert sorted(f.path.name for f in foreign) == [
        "0" * 64 + ".json",
        "1" * 64 + ".json",
        "README",
    ]
    assert {f.why for f in foreign} >= {"its name is not its requestId"}
    assert (requests / "README").read_text() == "hi"
    assert spool.find(request.request_id[7:15]) == request
    with pytest.raises(SpoolError, match="not a request id"):
        spool.find("zz")


# -- the decision log -------------------------------------------------------------------------


def write_log(path: Path, count: int) -> list[bytes]:
    log = DecisionLog(path)
    for i in range(count):
        log.append({"type": "TOOL_CALL_ALLOWED", "decision": ALLOW, "tool": f"t{i}"})
    log.close()
    return path.read_bytes().splitlines(keepends=True)


def test_an_intact_log_verifies_and_continues_across_opens(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    write_log(path, 3)
    lines = write_log(path, 2)
    checked = verify_log(lines)
    assert checked.ok
    assert checked.lines == 5
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3, 4, 5]
    assert json.loads(lines[0])["prev"] is None


@pytest.mark.parametrize(
    ("tamper", "line", "words"),
    [
        (lambda ls: ls[:2] + ls[3:], 3, "removed"),
        (lambda ls: [ls[0], ls[2], ls[1], *ls[3:]], 2, "reordered"),
        (lambda ls: [ls[0], ls[1].replace(b"ALLOW", b"DENY!"), *ls[2:]], 3, "line 2 was edited"),
        (lambda ls: ls[1:], 1, "removed"),
        (lambda ls: [*ls[:-1], ls[-1][:-5]], 5, "cut short"),
    ],
)
def test_tampering_is_found_and_named(tmp_path: Path, tamper: Any, line: int, words: str) -> None:
    lines = write_log(tmp_path / "log.jsonl", 5)
    checked = verify_log(tamper(lines))
    assert not checked.ok
    first = checked.problems[0]
    assert first.line == line
    assert words in first.message


def test_a_log_with_a_broken_last_line_is_not_appended_to(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    write_log(path, 2)
    with path.open("ab") as handle:
        handle.write(b'{"half": ')
    before = path.read_bytes()
    with pytest.raises(LogError, match="cut short"):
        DecisionLog(path)
    assert path.read_bytes() == before


def test_threads_append_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    log = DecisionLog(path)

    def work(n: int) -> None:
        for i in range(200):
            log.append({"type": "POLICY_DENIED", "decision": DENY, "tool": f"{n}-{i}"})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.close()
    lines = path.read_bytes().splitlines(keepends=True)
    assert len(lines) == 1600
    checked = verify_log(lines)
    assert checked.ok, checked.problems[:3]
    assert checked.head == log.head


def test_an_anchored_head_catches_an_edited_last_line_and_a_cut(tmp_path: Path) -> None:
    lines = write_log(tmp_path / "log.jsonl", 4)
    head = verify_log(lines).head
    assert verify_log(lines, head).ok
    grown = write_log(tmp_path / "log.jsonl", 2)  # the log grew: the old head is still in it
    assert verify_log(grown, head).ok
    edited = [*lines[:-1], lines[-1].replace(b"t3", b"t9")]
    assert verify_log(edited).ok  # the chain alone cannot tell
    checked = verify_log(edited, head)
    assert not checked.ok
    assert "anchored head" in checked.problems[0].message
    assert not verify_log(lines[:-1], head).ok


def _chain(count: int) -> list[bytes]:
    from armgit.runtime.decisions import line_digest

    lines, prev = [], None
    for seq in range(1, count + 1):
        line = json.dumps({"tool": f"t{seq}", "seq": seq, "prev": prev}).encode()
        lines.append(line + b"\n")
        prev = line_digest(line)
    return lines


@settings(max_examples=300, deadline=None)
@given(
    count=st.integers(min_value=2, max_value=12),
    data=st.data(),
    how=st.sampled_from(["remove", "swap", "edit", "duplicate"]),
)
def test_any_change_but_at_the_end_is_found(count: int, data: st.DataObject, how: str) -> None:
    lines = _chain(count)
    at = data.draw(st.integers(min_value=0, max_value=count - 2), label="at")  # not the last
    tampered = list(lines)
    if how == "remove":
        del tampered[at]
    elif how == "swap":
        tampered[at], tampered[at + 1] = tampered[at + 1], tampered[at]
    elif how == "edit":
        tampered[at] = tampered[at].replace(b'"tool": "t', b'"tool": "x')
    else:
        tampered.insert(at + 1, tampered[at])
    checked = verify_log(tampered)
    assert not checked.ok
    assert checked.problems[0].line in (at + 1, at + 2)
    assert verify_log(lines).ok
