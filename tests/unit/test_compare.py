"""armgit.core.compare: two versions and two environments of the example registry, as meaning."""

from __future__ import annotations

from armgit.core.compare import compare_environments, compare_versions, policy_changes
from armgit.core.layout import version_id
from armgit.core.rules.policy import NO_POLICY, EffectivePolicy
from armgit.core.snapshot import Snapshot
from armgit.registry.loader import load_registry
from armgit.store.memory import MemoryTree
from tests.unit.helpers import DEPLOYMENT, T, example_files

V1 = version_id("arm-dev", "customer-support", "1.0.0")
V2 = version_id("arm-dev", "customer-support", "2.0.0")
STAGING = f"{T}/deployments/staging/customer-support.yaml"


def snapshot(files: dict[str, bytes] | None = None) -> Snapshot:
    return load_registry(MemoryTree(files or example_files()), check=False).snapshot


def test_two_versions_differ_in_genome_policy_and_risk() -> None:
    diff = compare_versions(snapshot(), V1, V2)
    assert (diff.a, diff.b) == (V1.ref, V2.ref)
    assert "tools added: refund_issue (high), zendesk_reply (medium)" in diff.genome
    assert "permissions added: billing:refund, zendesk:write" in diff.genome
    assert "from support-default, tenant-ceiling -> support-prod, tenant-ceiling" in diff.policy
    assert "allowed tools added: refund_issue" in diff.policy
    assert "new tool refund_issue (high risk)" in diff.risk
    assert "higher daily tokens limit (500000 -> 1000000)" in diff.risk
    assert not diff.same
    back = compare_versions(snapshot(), V2, V1)
    assert "tools removed: refund_issue, zendesk_reply" in back.genome
    # going back narrows, but for a risk override the older policy does not set (as review says)
    assert back.risk == ("zendesk_reply treated as less risky (medium -> -)",)


def test_a_version_against_itself_is_the_same() -> None:
    diff = compare_versions(snapshot(), V2, V2)
    assert diff.same
    assert diff.to_json()["genome"] == []


def test_the_environment_bounds_the_effective_policy() -> None:
    view = snapshot()
    alone = compare_versions(view, V2, V2)
    in_prod = compare_versions(view, V2, V2, env_b="prod")
    assert "prod-ceiling" in in_prod.policy_b.sources
    assert "prod-ceiling" not in alone.policy_b.sources


def test_two_environments_say_what_runs_where() -> None:
    files = example_files()
    files[STAGING] = (
        files[DEPLOYMENT]
        .decode()
        .replace("environment: prod", "environment: staging")
        .replace("version: 2.0.0", "version: 1.0.0")
        .replace("previousVersion: 1.0.0\n", "")
        .encode()
    )
    diff = compare_environments(snapshot(files), "arm-dev", "staging", "arm-dev", "prod")
    assert "protected false -> true" in diff.settings
    (row,) = diff.templates
    assert row.template == "customer-support"
    assert (str(row.a), str(row.b)) == ("1.0.0 (ACTIVE)", "2.0.0 (ACTIVE)")
    assert row.comparison is not None
    assert "prod-ceiling" in row.comparison.policy_b.sources
    assert "tools added: refund_issue (high), zendesk_reply (medium)" in row.comparison.genome
    data = diff.to_json()
    assert data["templates"][0]["a"] == {"version": "1.0.0", "status": "ACTIVE"}  # type: ignore[index,call-overload]


def test_a_template_deployed_on_one_side_only() -> None:
    diff = compare_environments(snapshot(), "arm-dev", "dev", "arm-dev", "prod")
    (row,) = diff.templates
    assert (row.a, str(row.b), row.comparison) == (None, "2.0.0 (ACTIVE)", None)


def test_policy_changes_say_which_widen() -> None:
    wide = EffectivePolicy(4, frozenset({"a", "b"}), {}, None, 10.0, frozenset({"x"}), ("p",))
    changes, wider = policy_changes(NO_POLICY, wide)
    assert "from no policy (nothing allowed) -> p" in changes
    assert "more autonomy (autonomy tier 0 -> 4): no call needs approval" in wider
    assert "allowed tools added: a, b" in wider
    assert "higher monthly cost limit (- -> 10.0)" not in wider  # no limit before: not higher
    narrow = EffectivePolicy(1, frozenset({"a"}), {}, None, 5.0, frozenset(), ("q",))
    changes, narrower = policy_changes(wide, narrow)
    assert "allowed tools removed: b" in changes
    assert narrower == []
