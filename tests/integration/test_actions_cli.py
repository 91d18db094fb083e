"""SPEC 12 end to end through the real entry point: a request from `armgit index evaluate`, an
approval from `armgit actions approve` that stock `ssh-keygen -Y verify` accepts, the decision
with it, the spool, the decision log, and legacy agent ids."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.approval_helpers import needs_ssh_keygen
from tests.conftest import Git, run_armgit
from tests.index_helpers import ssh_keygen
from tests.integration.test_index_cli import compile_example

APPROVER_ROLE = """apiVersion: armgit/v1
kind: Role
name: action-approver
permissions: ["approve:actions"]
"""


def setup(repo: Git, tmp_path: Path) -> tuple[Path, list[str], Path, Path]:
    """The example registry with bob (approve:actions) and alice (no such permission) holding
    keys, compiled. Returns the index, the trust options, bob's and alice's keys."""
    bob, _, bob_pub = ssh_keygen(tmp_path, "bob")
    alice, _, alice_pub = ssh_keygen(tmp_path, "alice")
    operators = repo.path / "tenants/arm-dev/operators"
    for name, pub, role in (("bob", bob_pub, "action-approver"), ("alice", alice_pub, None)):
        path = operators / f"{name}.yaml"
        text = path.read_text()
        if role is not None:
            text = text.replace("roles:\n", f"roles:\n  - role: {role}\n")
        path.write_text(text + f"sshKeys: [{json.dumps(pub.strip())}]\n")
    (repo.path / "tenants/arm-dev/roles/action-approver.yaml").write_text(APPROVER_ROLE)
    repo.commit_all("bob approves actions")
    key, _, _ = ssh_keygen(tmp_path, "index")
    out = tmp_path / "index.json"
    compile_example(repo, out, key)
    return out, ["--trusted-key", f"{key}.pub"], bob, alice


CALL = ["--tenant", "arm-dev", "--env", "prod", "--template", "customer-support"]


def evaluate(index: Path, trust: list[str], *extra: str) -> dict[str, object]:
    result = run_armgit("index", "evaluate", str(index), *trust, *CALL, *extra)
    assert result.returncode == 0, result.stderr
    decision: dict[str, object] = json.loads(result.stdout)
    return decision


@needs_ssh_keygen
def test_request_approve_and_decide(example_repo: Git, tmp_path: Path) -> None:
    index, trust, bob, alice = setup(example_repo, tmp_path)
    state, log = tmp_path / "state", tmp_path / "decisions.jsonl"
    common = ["--state-dir", str(state), "--decision-log", str(log)]
    args = "sha256:" + "ab" * 32
    first = evaluate(index, trust, *common, "--tool", "refund_issue", "--args-digest", args)
    assert first["decision"] == "NEEDS_APPROVAL"
    request = first["request"]
    assert isinstance(request, dict)
    assert request["argsDigest"] == args
    request_file = tmp_path / "request.json"
    request_file.write_text(json.dumps(request))

    approval_file = tmp_path / "bob.json"
    signed = run_armgit(
        "actions", "approve", str(request_file), "--key", str(bob), "--repo",
        str(example_repo.path), "--justification", "refund of order 42", "--out",
        str(approval_file),
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    approval = json.loads(approval_file.read_text())
    assert approval["statement"]["approver"] == "arm-dev/bob"
    assert approval["statement"]["requestId"] == request["requestId"]

    # stock OpenSSH checks it: the statement's RFC 8785 bytes, namespace armgit-action
    message = json.dumps(
        approval["statement"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    signers = tmp_path / "allowed_signers"
    signers.write_text(f"bob {Path(f'{bob}.pub').read_text()}")
    sig = tmp_path / "approval.sig"
    sig.write_text(approval["signature"])
    checked = subprocess.run(
        ["ssh-keygen", "-Y", "verify", "-f", str(signers), "-I", "bob", "-n", "armgit-action",
         "-s", str(sig)],
        input=message, capture_output=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    wrong_namespace = subprocess.run(
        ["ssh-keygen", "-Y", "verify", "-f", str(signers), "-I", "bob", "-n", "armgit-approval",
         "-s", str(sig)],
        input=message, capture_output=True, check=False,
    )  # fmt: skip
    assert wrong_namespace.returncode != 0

    # alice has a key but not approve:actions; her approval (found through the index) is refused
    alice_file = tmp_path / "alice.json"
    by_alice = run_armgit(
        "actions", "approve", str(request_file), "--key", str(alice), "--index", str(index),
        "--out", str(alice_file),
    )  # fmt: skip
    assert by_alice.returncode == 0, by_alice.stderr
    decide = [*common, "--tool", "refund_issue", "--args-digest", args]
    decide += ["--request", str(request_file)]
    refused = evaluate(index, trust, *decide, "--approval", str(alice_file))
    assert refused["decision"] == "NEEDS_APPROVAL"
    assert any("(no-permission)" in r for r in refused["reasons"])  # type: ignore[attr-defined]

    allowed = evaluate(index, trust, *decide, "--approval", str(approval_file))
    assert allowed["decision"] == "ALLOW", allowed
    assert allowed["approvers"] == ["arm-dev/bob"]
    again = evaluate(index, trust, *decide, "--approval", str(approval_file))
    assert again["decision"] == "NEEDS_APPROVAL"
    assert any("(already-used)" in r for r in again["reasons"])  # type: ignore[attr-defined]

    verified = run_armgit("decisions", "verify", str(log))
    assert verified.returncode == 0, verified.stdout
    assert "4 lines, chain intact" in verified.stdout
    listed = run_armgit("decisions", "ls", str(log), "--decision", "ALLOW", "--format", "jsonl")
    records = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["type"], r["outcome"], r["approvals"]) for r in records] == [
        ("APPROVAL_DECIDED", "approved", ["arm-dev/bob"])
    ]
    csv_out = run_armgit("decisions", "ls", str(log), "--format", "csv", "--tool", "refund_issue")
    assert csv_out.stdout.splitlines()[0].startswith("seq,time,type,decision")
    assert len(csv_out.stdout.splitlines()) == 5


@needs_ssh_keygen
def test_the_spool_from_the_command_line(example_repo: Git, tmp_path: Path) -> None:
    index, trust, bob, _ = setup(example_repo, tmp_path)
    from armgit.runtime.actions import parse_request

    spool = tmp_path / "spool"
    asked = evaluate(index, trust, "--tool", "refund_issue", "--spool", str(spool))
    request = asked["request"]
    assert isinstance(request, dict)
    assert asked["spooled"] == str(spool / "requests" / f"{str(request['requestId'])[7:]}.json")
    assert (
        parse_request(Path(str(asked["spooled"])).read_bytes()).request_id == request["requestId"]
    )
    listed = run_armgit("actions", "ls", "--spool", str(spool))
    assert listed.returncode == 0, listed.stderr
    assert "refund_issue" in listed.stdout
    assert "arm-dev/prod/customer-support@2.0.0" in listed.stdout
    assert "0/1" in listed.stdout

    short = str(request["requestId"])[7:19]
    answered = run_armgit(
        "actions", "approve", short, "--spool", str(spool), "--key", str(bob), "--reject",
        "--repo", str(example_repo.path),
    )  # fmt: skip
    assert answered.returncode == 0, answered.stderr
    assert "REJECT" in answered.stdout
    rows = json.loads(run_armgit("actions", "ls", "--spool", str(spool), "--format", "json").stdout)
    assert rows[0]["answers"] == 1

    (spool / "requests" / "notes.txt").write_text("hello")
    before = sorted(p.name for p in (spool / "requests").iterdir())
    foreign = run_armgit("actions", "ls", "--spool", str(spool))
    assert foreign.returncode == 1
    assert "notes.txt: not a request" in foreign.stderr
    assert sorted(p.name for p in (spool / "requests").iterdir()) == before

    unknown = run_armgit("actions", "approve", "deadbeef", "--spool", str(spool), "--key", str(bob))
    assert unknown.returncode == 2
    assert "no pending request" in unknown.stderr


@needs_ssh_keygen
def test_bad_request_and_approval_files(example_repo: Git, tmp_path: Path) -> None:
    index, trust, bob, _ = setup(example_repo, tmp_path)
    request = evaluate(index, trust, "--tool", "refund_issue")["request"]
    assert isinstance(request, dict)
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps({**request, "tool": "kb_lookup"}))
    result = run_armgit("actions", "approve", str(edited), "--key", str(bob))
    assert result.returncode == 2
    assert "was edited" in result.stderr
    assert "Traceback" not in result.stderr
    from armgit.runtime.actions import parse_request

    old = parse_request(request)
    stale_body = {**old.body, "expiresAt": "2020-01-01T00:00:00Z"}
    from armgit.core.canonical import sha256_digest, to_canonical_json

    stale = tmp_path / "stale.json"
    stale_id = sha256_digest(to_canonical_json(stale_body))
    stale.write_text(json.dumps({"requestId": stale_id, **stale_body}))
    expired = run_armgit("actions", "approve", str(stale), "--key", str(bob))
    assert expired.returncode == 2
    assert "expired at 2020-01-01T00:00:00Z" in expired.stderr
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{")
    good = tmp_path / "request.json"
    good.write_text(json.dumps(request))
    for extra in (
        ["--request", str(garbage)],
        ["--request", str(good), "--approval", str(garbage)],
    ):
        bad = run_armgit(
            "index", "evaluate", str(index), *trust, *CALL, "--tool", "refund_issue", *extra
        )
        assert bad.returncode == 2, bad.stdout
        assert "not JSON" in bad.stderr


@needs_ssh_keygen
def test_resolve_an_agent_by_legacy_id(example_repo: Git, tmp_path: Path) -> None:
    key, _, _ = ssh_keygen(tmp_path, "index")
    out = tmp_path / "index.json"
    compile_example(example_repo, out, key)
    trust = ["--trusted-key", f"{key}.pub"]
    found = run_armgit(
        "index", "resolve", str(out), *trust, "--tenant", "arm-dev", "--agent", "agent_01HZX3K8"
    )
    assert found.returncode == 0, found.stderr
    agent = json.loads(found.stdout)
    assert (agent["instance"], agent["template"], agent["environment"]) == (
        "support-prod-1", "customer-support", "prod",
    )  # fmt: skip
    decided = run_armgit(
        "index", "evaluate", str(out), *trust, "--tenant", "arm-dev", "--env", "prod",
        "--instance", "agent_01HZX3K8", "--tool", "kb_lookup",
    )  # fmt: skip
    assert json.loads(decided.stdout)["decision"] == "ALLOW"
    missing = run_armgit(
        "index", "resolve", str(out), *trust, "--tenant", "arm-dev", "--agent", "nobody"
    )
    assert missing.returncode == 1


def test_decisions_verify_names_the_broken_line(tmp_path: Path) -> None:
    from armgit.runtime.decisions import DecisionLog

    path = tmp_path / "decisions.jsonl"
    log = DecisionLog(path)
    for tool in ("a", "b", "c", "d"):
        log.append({"type": "POLICY_DENIED", "decision": "DENY", "tool": tool})
    log.close()
    intact = run_armgit("decisions", "verify", str(path))
    assert intact.returncode == 0
    assert "4 lines, chain intact" in intact.stdout
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + lines[1].replace('"b"', '"B"') + lines[2] + lines[3])
    edited = run_armgit("decisions", "verify", str(path), "--format", "json")
    assert edited.returncode == 1
    report = json.loads(edited.stdout)
    assert report["valid"] is False
    assert report["problems"] == [
        {"line": 3, "message": "prev does not match line 2: line 2 was edited"}
    ]
    path.write_text("".join(lines) + "{broken\n")
    broken = run_armgit("decisions", "ls", str(path))
    assert broken.returncode == 2
    assert "line 5 is not a JSON record" in broken.stderr
    assert "Traceback" not in broken.stderr
    since = run_armgit("decisions", "ls", str(path), "--since", "yesterday")
    assert since.returncode == 2
    assert "--since" in since.stderr
