"""Authoring through the CLI on a real git copy of the example: edits keep every other byte,
refusals say why, commits and branches are named after the change."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from armgit.cli.main import cli
from armgit.core.canonical import genome_hash, sha256_digest
from armgit.core.yamldata import YamlDoc, parse_yaml
from tests.conftest import Git

V = "tenants/arm-dev/templates/customer-support/versions"
PROD = "tenants/arm-dev/deployments/prod/customer-support.yaml"
INSTANCE = "tenants/arm-dev/instances/support-prod-1.yaml"
DIGEST = "sha256:" + "ab" * 32
EVAL = ["--evaluation", "PASS", "--suite", "support-regression", "--report-digest", DIGEST]


@pytest.fixture
def repo(example_repo: Git) -> Git:
    """The example as Alice (an engineer) sees it in her clone."""
    example_repo("config", "user.email", "alice@arm-dev.example")
    example_repo("config", "user.name", "Alice Chen")
    return example_repo


def armgit(git: Git, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--repo", str(git.path)], catch_exceptions=False)


def validate(git: Git) -> None:
    result = CliRunner().invoke(cli, ["validate", "--repo", str(git.path)])
    assert result.exit_code == 0, result.output


def diff(before: str, after: str) -> tuple[list[str], list[str]]:
    """(removed, added) lines."""
    removed, added = [], []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


def data(path: Path) -> dict[str, Any]:
    doc = parse_yaml(path.read_bytes())
    assert isinstance(doc, YamlDoc)
    assert isinstance(doc.data, dict)
    return doc.data


# -- new ------------------------------------------------------------------------------------


def test_new_version_starts_from_the_parent(repo: Git, tmp_path: Path) -> None:
    bundle = tmp_path / "v2.1.md"
    bundle.write_text("You are a careful support agent.\n")
    result = armgit(
        repo,
        "new", "version", "arm-dev/customer-support@2.1.0", "--parent", "2.0.0",
        "--temperature", "0.3", "--prompt-bundle", str(bundle),
        "--add-tool", "crm_lookup,low,crm:read", "--remove-tool", "refund_issue",
        "--created-at", "2026-03-01T09:00:00Z",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    path = repo.path / V / "2.1.0.yaml"
    text = path.read_text()
    assert text.startswith(
        "# yaml-language-server: $schema=../../../../../../schemas/version.json\n"
    )
    written = data(path)
    genome = written["genome"]
    assert isinstance(genome, dict)
    assert written["genomeHash"] == genome_hash(genome)
    assert (written["lifecycle"], written["parent"], written["policy"]) == (
        "DRAFT",
        "2.0.0",
        "support-prod",
    )
    assert genome["modelConfig"] == {
        "provider": "anthropic",
        "modelId": "claude-3-5-sonnet-20241022",
        "temperature": 0.3,
        "maxTokens": 8192,
    }
    assert [t["toolId"] for t in genome["toolManifest"]] == [
        "zendesk_search", "zendesk_reply", "kb_lookup", "crm_lookup",
    ]  # fmt: skip
    assert genome["provenance"] == {
        "createdBy": "alice@arm-dev.example",
        "source": "git+https://example.invalid/agents",
        "createdAt": "2026-03-01T09:00:00Z",
    }
    copied = repo.path / "tenants/arm-dev/templates/customer-support/prompts/v2.1.md"
    assert genome["promptBundleHash"] == sha256_digest(copied.read_bytes())
    assert written["artifacts"] == {"promptBundle": "prompts/v2.1.md"}
    assert "PRIVILEGE_WIDENING" in result.output
    assert "who may approve: bob, ops" in result.output
    assert (
        '    - {toolId: crm_lookup, schemaVersion: "1.0", requiredPermissions: ["crm:read"]' in text
    )
    validate(repo)


def test_new_version_from_a_genome_file(repo: Git, tmp_path: Path) -> None:
    source = repo.path / V / "1.0.0.yaml"
    result = armgit(
        repo, "new", "version", "arm-dev/customer-support@3.0.0", "--from", str(source),
        "--model", "claude-3-5-haiku-20241022", "--created-by", "ops@arm-dev.com",
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["change"] == "new version arm-dev/customer-support@3.0.0"
    written = data(repo.path / V / "3.0.0.yaml")
    assert "parent" not in written
    genome = written["genome"]
    assert isinstance(genome, dict)
    assert genome["modelConfig"]["modelId"] == "claude-3-5-haiku-20241022"
    assert genome["provenance"]["createdBy"] == "ops@arm-dev.com"
    validate(repo)


@pytest.mark.parametrize(
    ("args", "path", "expected"),
    [
        (
            ["tenant", "acme", "--name", "Acme Corp"],
            "tenants/acme/tenant.yaml",
            "apiVersion: armgit/v1\nkind: Tenant\nname: Acme Corp\nslug: acme\n",
        ),
        (
            ["environment", "arm-dev/qa", "--type", "staging", "--min-lifecycle", "TESTING",
             "--protected", "--required-approvals", "1"],
            "tenants/arm-dev/environments/qa.yaml",
            "apiVersion: armgit/v1\nkind: Environment\nname: qa\ntype: staging\nprotected: true\n"
            "requiredApprovals: 1\nminLifecycle: TESTING\n",
        ),
        (
            ["provider", "arm-dev/edge", "--health-endpoint", "https://edge.example/healthz"],
            "tenants/arm-dev/providers/edge.yaml",
            "apiVersion: armgit/v1\nkind: Provider\nname: edge\ntype: local\n"
            "healthEndpoint: https://edge.example/healthz\n",
        ),
        (
            ["operator", "arm-dev/carol", "--email", "carol@arm-dev.example",
             "--identity", "github:carol", "--role", "reviewer"],
            "tenants/arm-dev/operators/carol.yaml",
            "apiVersion: armgit/v1\nkind: Operator\nname: carol\nemail: carol@arm-dev.example\n"
            'identities: ["github:carol"]\nroles:\n  - {role: reviewer}\n',
        ),
        (
            ["role", "arm-dev/auditor", "--permission", "read:versions"],
            "tenants/arm-dev/roles/auditor.yaml",
            'apiVersion: armgit/v1\nkind: Role\nname: auditor\npermissions: ["read:versions"]\n',
        ),
        (
            ["policy", "arm-dev/support-dev", "--autonomy-tier", "1", "--allowed-tool", "kb_lookup",
             "--tool-risk", "kb_lookup=low", "--daily-tokens", "1000", "--monthly-cost", "50",
             "--data-scope", "kb:read"],
            "tenants/arm-dev/policies/support-dev.yaml",
            "apiVersion: armgit/v1\nkind: Policy\nname: support-dev\nautonomyTier: 1\n"
            "allowedTools: [kb_lookup]\ntoolRisk:\n  kb_lookup: low\ncostLimits: {dailyTokens: 1000, monthlyCost: 50.0}\n"
            'dataScopes: ["kb:read"]\n',
        ),
        (
            ["template", "arm-dev/triage", "--display-name", "Ticket Triage", "--owner", "alice",
             "--tag", "support"],
            "tenants/arm-dev/templates/triage/template.yaml",
            "apiVersion: armgit/v1\nkind: Template\nname: triage\ndisplayName: Ticket Triage\n"
            "owners: [alice]\ntags: [support]\n",
        ),
        (
            ["instance", "arm-dev/support-dev-1", "--version", "customer-support@2.0.0", "--env",
             "dev", "--provider", "local", "--secret-ref", "vault://arm-dev/support-dev-1"],
            "tenants/arm-dev/instances/support-dev-1.yaml",
            "apiVersion: armgit/v1\nkind: Instance\nname: support-dev-1\n"
            "version: customer-support@2.0.0\nenvironment: dev\nprovider: local\n"
            "state: PROVISIONING\nsecretRef: vault://arm-dev/support-dev-1\n",
        ),
    ],
)  # fmt: skip
def test_new_entities_are_valid_as_written(
    repo: Git, args: list[str], path: str, expected: str
) -> None:
    result = armgit(repo, "new", *args, "--commit")
    assert result.exit_code == 0, result.output
    depth = path.count("/")
    kind = expected.split("kind: ")[1].split("\n", maxsplit=1)[0].lower()
    header = f"# yaml-language-server: $schema={'../' * (depth + 1)}schemas/{kind}.json\n"
    assert (repo.path / path).read_text() == header + expected
    assert repo("log", "-1", "--format=%s") == f"new {kind} {result.output.split()[2]}"
    validate(repo)
    again = armgit(repo, "new", *args)
    assert again.exit_code == 1
    assert "exists already" in again.output


def test_new_refusals(repo: Git) -> None:
    result = armgit(
        repo, "new", "version", "arm-dev/customer-support@2.1.0", "--parent", "2.0.0",
        "--remove-tool", "nope",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "--remove-tool nope: no such tool in the manifest" in result.output
    result = armgit(repo, "new", "version", "arm-dev/customer-support@2.1.0", "--parent", "9.0.0")
    assert result.exit_code == 1
    assert "does not exist" in result.output
    result = armgit(repo, "new", "version", "arm-dev/customer-support@2.1.0")
    assert result.exit_code == 2
    assert "a first version needs --provider, --model, --prompt-bundle" in result.output
    result = armgit(
        repo, "new", "instance", "arm-dev/x-1", "--version", "customer-support@2.0.0",
        "--env", "nowhere", "--provider", "local",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "dangling-reference" in result.output
    assert "'nowhere'" in result.output
    assert not (repo.path / "tenants/arm-dev/instances/x-1.yaml").exists()


# -- promote, retire ------------------------------------------------------------------------


def test_the_whole_flow_validates_after_each_step(repo: Git) -> None:
    ref = "arm-dev/customer-support@2.1.0"
    steps = [
        (["new", "version", ref, "--parent", "2.0.0", "--model", "claude-3-7-sonnet-20250219"],
         "new version arm-dev/customer-support@2.1.0 (parent 2.0.0)"),
        (["promote", ref, "--to", "TESTING"], f"promote {ref} DRAFT -> TESTING"),
        (["promote", ref, "--to", "CANDIDATE", *EVAL],
         f"promote {ref} TESTING -> CANDIDATE (evaluation PASS)"),
    ]  # fmt: skip
    for args, message in steps:
        result = armgit(repo, *args, "--commit")
        assert result.exit_code == 0, result.output
        assert repo("log", "-1", "--format=%s") == message
        assert repo("status", "--porcelain") == ""
        validate(repo)
    check = CliRunner().invoke(
        cli,
        ["check", "--base", "HEAD~3", "--head", "HEAD", "--author", "email:alice@arm-dev.example",
         "--repo", str(repo.path)],
    )  # fmt: skip
    assert check.exit_code == 0, check.output
    evaluation = data(repo.path / V / "2.1.0.yaml")["evaluation"]
    assert isinstance(evaluation, dict)
    assert evaluation["status"] == "PASS"
    assert evaluation["reportDigest"] == DIGEST
    result = armgit(repo, "promote", ref, "--to", "APPROVED")
    assert result.exit_code == 0
    assert "VERSION_PROMOTION of arm-dev/customer-support@2.1.0 (CANDIDATE -> APPROVED)" in (
        result.output
    )
    assert "who may approve: bob, ops" in result.output


def test_promote_changes_only_the_lifecycle_line(repo: Git) -> None:
    path = repo.path / V / "2.0.0.yaml"
    before = path.read_text()
    result = armgit(repo, "promote", "arm-dev/customer-support@2.0.0", "--to", "DEPRECATED")
    assert result.exit_code == 0, result.output
    assert diff(before, path.read_text()) == (["lifecycle: APPROVED"], ["lifecycle: DEPRECATED"])
    assert result.output.splitlines()[0] == (
        "promote arm-dev/customer-support@2.0.0 APPROVED -> DEPRECATED"
    )


def test_recording_an_evaluation_keeps_comments(repo: Git) -> None:
    path = repo.path / V / "1.0.0.yaml"
    before = path.read_text()
    result = armgit(
        repo, "promote", "arm-dev/customer-support@1.0.0", "--to", "DEPRECATED",
        "--evaluation", "FAIL", "--suite", "nightly", "--evaluated-at", "2026-03-02T00:00:00Z",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.startswith("evaluate arm-dev/customer-support@1.0.0: FAIL")
    assert diff(before, path.read_text()) == (
        ["  status: PASS", "  suite: support-regression", '  evaluatedAt: "2026-01-10T09:00:00Z"'],
        ["  status: FAIL", "  suite: nightly", '  evaluatedAt: "2026-03-02T00:00:00Z"'],
    )
    assert "lifecycle: DEPRECATED          # replaced in prod by 2.0.0\n" in path.read_text()


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["promote", "arm-dev/customer-support@2.0.0", "--to", "DRAFT"], 1,
         "cannot go from APPROVED to DRAFT\n  from APPROVED it may go to: DEPRECATED"),
        (["promote", "arm-dev/customer-support@9.9.9", "--to", "TESTING"], 1,
         "no such version: arm-dev/customer-support@9.9.9"),
        (["promote", "arm-dev/customer-support@2.0.0", "--to", "LIVE"], 2, "Invalid value"),
        (["promote", "arm-dev/customer-support", "--to", "TESTING"], 2, "promote takes a version"),
        (["retire", "arm-dev/customer-support@2.0.0"], 1,
         "from APPROVED it may go to: DEPRECATED"),
        (["instance", "arm-dev/instance/support-prod-1", "--to", "RETIRED"], 1,
         "from ACTIVE it may go to: DRAINING, PAUSED, QUARANTINED, READONLY"),
        (["instance", "arm-dev/instance/support-prod-1", "--to", "sleep"], 2, "give a state"),
        (["deploy", "arm-dev/customer-support@2.0.0", "--env", "prod"], 1,
         "already the active deployment in 'prod'"),
        (["deploy", "arm-dev/customer-support@2.0.0", "--env", "moon"], 1,
         "no environment 'moon' in tenant 'arm-dev' (environments: dev, prod, staging)"),
        (["rollback", "arm-dev/customer-support", "--env", "staging"], 1,
         "no such deployment: arm-dev/deployment/staging/customer-support"),
    ],
)  # fmt: skip
def test_refusals_say_why(repo: Git, args: list[str], code: int, says: str) -> None:
    result = armgit(repo, *args)
    assert result.exit_code == code, result.output
    assert says in result.output
    assert "Traceback" not in result.output
    assert repo("status", "--porcelain") == ""


def test_candidate_needs_a_passing_evaluation(repo: Git) -> None:
    ref = "arm-dev/customer-support@2.1.0"
    for args in (["new", "version", ref, "--parent", "2.0.0"], ["promote", ref, "--to", "TESTING"]):
        assert armgit(repo, *args).exit_code == 0
    result = armgit(repo, "promote", ref, "--to", "CANDIDATE")
    assert result.exit_code == 1
    assert "TESTING -> CANDIDATE needs evaluation PASS, and it has NOT_RUN" in result.output
    assert "--evaluation PASS --suite NAME" in result.output
    failed = armgit(repo, "promote", ref, "--to", "CANDIDATE", "--evaluation", "FAIL")
    assert failed.exit_code == 1


def test_retire_one_step_and_not_while_running(repo: Git) -> None:
    path = repo.path / V / "1.0.0.yaml"
    before = path.read_text()
    result = armgit(repo, "retire", "arm-dev/customer-support@1.0.0", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["change"] == (
        "retire arm-dev/customer-support@1.0.0 DEPRECATED -> RETIRED"
    )
    removed, added = diff(before, path.read_text())
    assert (len(removed), len(added)) == (1, 1)
    assert added[0].startswith("lifecycle: RETIRED ")
    repo("checkout", "--", ".")
    assert armgit(repo, "rollback", "arm-dev/customer-support", "--env", "prod").exit_code == 0
    result = armgit(repo, "retire", "arm-dev/customer-support@1.0.0")
    assert result.exit_code == 1
    assert "not-deployable" in result.output
    assert "is RETIRED" in result.output


# -- deploy, rollback, instances ------------------------------------------------------------


def test_deploy_replaces_and_rebinds(repo: Git) -> None:
    deployment, instance = repo.path / PROD, repo.path / INSTANCE
    before, before_instance = deployment.read_text(), instance.read_text()
    result = armgit(repo, "deploy", "arm-dev/customer-support@1.0.0", "--env", "prod")
    assert result.exit_code == 0, result.output
    assert diff(before, deployment.read_text()) == (
        ["version: 2.0.0", "previousVersion: 1.0.0"],
        ["version: 1.0.0", "previousVersion: 2.0.0"],
    )
    assert diff(before_instance, instance.read_text()) == (
        ["version: customer-support@2.0.0"],
        ["version: customer-support@1.0.0"],
    )
    assert "DEPLOYMENT_ACTIVATION of arm-dev/deployment/prod/customer-support" in result.output
    assert "who may approve: bob, ops" in result.output
    validate(repo)


def test_deploy_creates_a_deployment(repo: Git) -> None:
    result = armgit(
        repo, "deploy", "arm-dev/customer-support@2.0.0", "--env", "staging", "--commit"
    )
    assert result.exit_code == 0, result.output
    assert (
        repo.path / "tenants/arm-dev/deployments/staging/customer-support.yaml"
    ).read_text() == (
        "# yaml-language-server: $schema=../../../../../schemas/deployment.json\n"
        "apiVersion: armgit/v1\nkind: Deployment\ntemplate: customer-support\n"
        "environment: staging\nversion: 2.0.0\nstatus: ACTIVE\nrequestedBy: alice\n"
    )
    assert repo("log", "-1", "--format=%s") == ("deploy arm-dev/customer-support@2.0.0 to staging")


def test_rollback_says_so(repo: Git) -> None:
    deployment, instance = repo.path / PROD, repo.path / INSTANCE
    before, before_instance = deployment.read_text(), instance.read_text()
    result = armgit(
        repo, "rollback", "arm-dev/customer-support", "--env", "prod",
        "--reason", "refunds issued twice", "--branch", "rollback-2.0.0",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert diff(before, deployment.read_text()) == (
        ["version: 2.0.0", "previousVersion: 1.0.0"],
        ["version: 1.0.0", "previousVersion: 2.0.0", "rollbackOf: 2.0.0",
         "reason: refunds issued twice"],
    )  # fmt: skip
    assert diff(before_instance, instance.read_text())[1] == ["version: customer-support@1.0.0"]
    assert "approvals: none needed" in result.output
    assert repo("rev-parse", "--abbrev-ref", "HEAD") == "rollback-2.0.0"
    assert repo("log", "-1", "--format=%B") == (
        "rollback arm-dev/customer-support in prod: 2.0.0 -> 1.0.0\n\nReason: refunds issued twice"
    )
    assert repo("show", "--format=", "--name-only", "HEAD").splitlines() == [PROD, INSTANCE]
    validate(repo)


def test_quarantine_and_reactivation(repo: Git) -> None:
    path = repo.path / INSTANCE
    before = path.read_text()
    result = armgit(repo, "instance", "arm-dev/instance/support-prod-1", "--to", "quarantine",
                    "--commit")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert diff(before, path.read_text()) == (["state: ACTIVE"], ["state: QUARANTINED"])
    assert repo("log", "-1", "--format=%s") == (
        "instance arm-dev/instance/support-prod-1 ACTIVE -> QUARANTINED"
    )
    result = armgit(repo, "instance", "arm-dev/support-prod-1", "--to", "reactivate")
    assert result.exit_code == 0
    assert "INSTANCE_REACTIVATION of arm-dev/instance/support-prod-1 (QUARANTINED -> ACTIVE)" in (
        result.output
    )
    assert "who may approve: bob, ops" in result.output


# -- commits --------------------------------------------------------------------------------


def test_branch_must_be_new(repo: Git) -> None:
    repo("branch", "taken")
    result = armgit(repo, "retire", "arm-dev/customer-support@1.0.0", "--branch", "taken")
    assert result.exit_code == 2
    assert "branch 'taken' exists already" in result.output
    assert repo("status", "--porcelain") == ""


def test_commit_needs_a_repository(tmp_path: Path) -> None:
    import shutil

    from tests.conftest import EXAMPLE

    shutil.copytree(EXAMPLE, tmp_path / "plain")
    git = Git(tmp_path / "plain")
    result = armgit(git, "retire", "arm-dev/customer-support@1.0.0", "--commit")
    assert result.exit_code == 2
    assert "not inside a git repository" in result.output


def test_a_commit_the_server_would_refuse_is_refused(repo: Git) -> None:
    # the work tree says 2.0.0 is DRAFT, so DRAFT -> TESTING looks legal; the commit would
    # take it from APPROVED (HEAD) to TESTING, which the server refuses
    path = repo.path / "tenants/arm-dev/templates/customer-support/versions/2.0.0.yaml"
    path.write_text(path.read_text().replace("lifecycle: APPROVED", "lifecycle: DRAFT"))
    result = armgit(
        repo, "promote", "arm-dev/customer-support@2.0.0", "--to", "TESTING", "--commit"
    )
    assert result.exit_code == 1
    assert "cannot go from APPROVED to TESTING" in result.output
    assert repo("log", "-1", "--format=%s") == "the example registry"


def test_a_new_version_may_be_committed_past_draft(repo: Git) -> None:
    # the commit creates 2.1.0 and moves it DRAFT -> TESTING: one legal path (SPEC 4a)
    ref = "arm-dev/customer-support@2.1.0"
    assert armgit(repo, "new", "version", ref, "--parent", "2.0.0").exit_code == 0
    result = armgit(repo, "promote", ref, "--to", "TESTING", "--commit")
    assert result.exit_code == 0, result.output
    assert repo("log", "-1", "--format=%s") == f"promote {ref} DRAFT -> TESTING"


def test_not_a_registry(tmp_path: Path) -> None:
    result = armgit(Git(tmp_path), "retire", "arm-dev/customer-support@1.0.0")
    assert result.exit_code == 2
    assert "not a registry work tree" in result.output
