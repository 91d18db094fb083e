"""The adversary's moves: edits of a work tree, legal and attacking, and the shapes that put a
side branch's commits onto main. Each edit makes one or two commits on the current branch and
returns what it did, or None when it does not apply to the registry as it stands."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from hypothesis import strategies as st

from tests.adversary import DEPLOYMENTS, INSTANCES, TEMPLATE, VERSIONS, T, World, load

Ex = TypeVar("Ex")


class Draws(Protocol):
    """What a move draws its choices from: hypothesis's ``st.data()``."""

    def draw(self, strategy: st.SearchStrategy[Ex], label: Any = None) -> Ex: ...


Edit = Callable[[World, Draws], str | None]
LEGAL: dict[str, Edit] = {}
ATTACKS: dict[str, Edit] = {}


def legal(fn: Edit) -> Edit:
    LEGAL[fn.__name__] = fn
    return fn


def attack(fn: Edit) -> Edit:
    ATTACKS[fn.__name__] = fn
    return fn


def lifecycle(world: World, label: str) -> str:
    data = load(world.read(f"{VERSIONS}/{label}.yaml")) or {}
    return str(data.get("lifecycle"))


def in_state(world: World, *states: str) -> list[str]:
    return [label for label in world.labels() if lifecycle(world, label) in states]


def instance_state(world: World, name: str) -> str:
    return str((load(world.read(f"{INSTANCES}/{name}.yaml")) or {}).get("state"))


def deployed(world: World) -> set[str]:
    labels = set()
    for path in world.path(DEPLOYMENTS).rglob("*.yaml"):
        labels.add(str((load(path.read_text()) or {}).get("version")))
    for name in world.instances():
        data = load(world.read(f"{INSTANCES}/{name}.yaml")) or {}
        labels.add(str(data.get("version", "")).partition("@")[2])
    return labels


def done(world: World, result_ok: bool, message: str) -> str | None:
    if not result_ok:
        world.git("reset", "-q", "--hard")
        world.git("clean", "-qfd")
        return None
    world.commit(message)
    return message


# -- legal steps, made with armgit's own authoring commands --------------------------------


@legal
def new_version(world: World, data: Draws) -> str | None:
    world.serial += 1
    label = f"3.{world.serial}.0"
    made = world.armgit(
        "new", "version", f"{TEMPLATE}@{label}", "--parent", "2.0.0", "--temperature", "0.2"
    )
    return done(world, made.returncode == 0, f"new version {label}")


@legal
def promote(world: World, data: Draws) -> str | None:
    steps = {"DRAFT": "TESTING", "TESTING": "CANDIDATE", "CANDIDATE": "APPROVED"}
    steps["APPROVED"] = "DEPRECATED"
    labels = in_state(world, *steps)
    if not labels:
        return None
    label = data.draw(st.sampled_from(labels), label="promote")
    to = steps[lifecycle(world, label)]
    ref = f"{TEMPLATE}@{label}"
    extra = ["--evaluation", "pass"] if to == "CANDIDATE" else []
    ok = world.armgit("promote", ref, "--to", to.lower(), *extra).returncode == 0
    if ok and to == "APPROVED":
        ok = world.approve(ref, "bob")
    return done(world, ok, f"promote {label} to {to}")


@legal
def deploy(world: World, data: Draws) -> str | None:
    env = data.draw(st.sampled_from(["prod", "staging"]), label="env")
    states = ("APPROVED",) if env == "prod" else ("CANDIDATE", "APPROVED")
    labels = in_state(world, *states)
    if not labels:
        return None
    label = data.draw(st.sampled_from(labels), label="deploy")
    made = world.armgit("deploy", f"{TEMPLATE}@{label}", "--env", env, "--requested-by", "alice")
    ok = made.returncode == 0
    if ok and env == "prod":
        world.approve("arm-dev/deployment/prod/customer-support", "bob")
    return done(world, ok, f"deploy {label} to {env}")


@legal
def rollback(world: World, data: Draws) -> str | None:
    made = world.armgit(
        "rollback", TEMPLATE, "--env", "prod", "--reason", "drill", "--requested-by", "alice"
    )
    return done(world, made.returncode == 0, "roll back prod")


@legal
def retire(world: World, data: Draws) -> str | None:
    labels = [label for label in in_state(world, "DEPRECATED") if label not in deployed(world)]
    if not labels:
        return None
    label = data.draw(st.sampled_from(labels), label="retire")
    made = world.armgit("retire", f"{TEMPLATE}@{label}")
    return done(world, made.returncode == 0, f"retire {label}")


@legal
def instance_step(world: World, data: Draws) -> str | None:
    names = world.instances()
    if not names:
        return None
    name = data.draw(st.sampled_from(names), label="instance")
    nexts = {
        "PROVISIONING": ["ACTIVE"],
        "ACTIVE": ["PAUSED", "QUARANTINED", "READONLY"],
        "PAUSED": ["ACTIVE"],
        "READONLY": ["ACTIVE"],
        "QUARANTINED": ["ACTIVE"],
        "DRAINING": ["QUARANTINED"],
    }.get(instance_state(world, name), [])
    if not nexts:
        return None
    to = data.draw(st.sampled_from(nexts), label="to")
    before = instance_state(world, name)
    ref = f"arm-dev/instance/{name}"
    ok = world.armgit("instance", ref, "--to", to).returncode == 0
    if ok and before == "QUARANTINED":
        ok = world.approve(ref, "bob")
    return done(world, ok, f"instance {name} {before} -> {to}")


def staging_instance(world: World, prefix: str) -> str | None:
    """A new instance ``PREFIX-N`` in staging on 2.0.0, made with ``armgit new instance``; its
    name, or None when the command refused."""
    world.serial += 1
    name = f"{prefix}-{world.serial}"
    made = world.armgit(
        "new", "instance", f"arm-dev/{name}", "--version", "customer-support@2.0.0",
        "--env", "staging", "--provider", "local",
    )  # fmt: skip
    return name if made.returncode == 0 else None


@legal
def new_instance(world: World, data: Draws) -> str | None:
    name = staging_instance(world, "support-staging")
    return done(world, name is not None, f"new instance {name}")


# -- attacks --------------------------------------------------------------------------------


@attack
def rehash_genome(world: World, data: Draws) -> str | None:
    from armgit.api import hash_file

    labels = in_state(world, "APPROVED", "DEPRECATED", "CANDIDATE")
    if not labels:
        return None
    label = data.draw(st.sampled_from(labels), label="rehash")
    path = f"{VERSIONS}/{label}.yaml"
    old_hash = str((load(world.read(path)) or {}).get("genomeHash"))
    text = world.read(path)
    if "maxTokens: 8192" in text:
        world.replace(path, "maxTokens: 8192", "maxTokens: 9000")
    elif '"maxTokens": 8192' in text:
        world.replace(path, '"maxTokens": 8192', '"maxTokens": 9000')
    else:
        world.replace(path, "maxTokens: 4096", "maxTokens: 9000")
    new_hash = hash_file(world.path(path)).genome_hash
    ok = new_hash is not None and world.replace(path, old_hash, new_hash)
    return done(world, ok, f"rehash {label}'s edited genome")


@attack
def delete_version(world: World, data: Draws) -> str | None:
    label = data.draw(st.sampled_from(world.labels()), label="delete")
    world.path(f"{VERSIONS}/{label}.yaml").unlink()
    return done(world, True, f"delete version {label}")


@attack
def delete_instance(world: World, data: Draws) -> str | None:
    if not world.instances():
        return None
    name = data.draw(st.sampled_from(world.instances()), label="delete")
    world.path(f"{INSTANCES}/{name}.yaml").unlink()
    return done(world, True, f"delete instance {name}")


@attack
def recreate_instance(world: World, data: Draws) -> str | None:
    if not world.instances():
        return None
    name = data.draw(st.sampled_from(world.instances()), label="recreate")
    path = f"{INSTANCES}/{name}.yaml"
    text = world.read(path)
    state = instance_state(world, name)
    world.path(path).unlink()
    world.commit(f"delete instance {name}")
    world.write(path, text.replace(f"state: {state}", "state: ACTIVE"))
    return done(world, True, f"re-create instance {name} ACTIVE")


@attack
def move_instance(world: World, data: Draws) -> str | None:
    """Take the production instance out of prod's gates: to staging (on any version staging
    takes), or hand its legacyAgentId to a new instance in staging."""
    path = f"{INSTANCES}/support-prod-1.yaml"
    text = world.read(path)
    if data.draw(st.booleans(), label="move environment"):
        labels = in_state(world, "CANDIDATE", "APPROVED") or ["2.0.0"]
        label = data.draw(st.sampled_from(labels), label="to version")
        moved = text.replace("environment: prod", "environment: staging")
        moved = re.sub(
            r"version: customer-support@\S+", f"version: customer-support@{label}", moved
        )
        world.write(path, moved)
        return done(world, moved != text, f"move support-prod-1 to staging on {label}")
    legacy = re.search(r"legacyAgentId: (\S+)", text)
    if legacy is None:
        return None
    world.write(path, text.replace(legacy.group(0) + "\n", ""))
    name = staging_instance(world, "support-legacy")
    other = f"{INSTANCES}/{name}.yaml"
    if name is not None:
        world.write(other, world.read(other) + f"{legacy.group(0)}\n")
    return done(world, name is not None, f"hand {legacy.group(1)} to {name} in staging")


@attack
def skip_lifecycle(world: World, data: Draws) -> str | None:
    labels = in_state(world, "DRAFT", "TESTING", "CANDIDATE")
    if not labels:
        return None
    label = data.draw(st.sampled_from(labels), label="skip")
    path = f"{VERSIONS}/{label}.yaml"
    current = lifecycle(world, label)
    ok = world.replace(path, f"lifecycle: {current}", "lifecycle: APPROVED")
    world.replace(path, "status: NOT_RUN", "status: PASS")
    return done(world, ok, f"skip {label} {current} -> APPROVED")


@attack
def edit_approval(world: World, data: Draws) -> str | None:
    approvals = sorted(world.path("tenants/arm-dev/approvals").glob("*.yaml"))
    if not approvals:
        return None
    target = data.draw(st.sampled_from(approvals), label="approval")
    text = target.read_text()
    target.write_text(text.replace("justification:", "justification: edited,", 1))
    return done(world, True, f"edit approval {target.name}")


@attack
def rewrite_previous_then_roll_back(world: World, data: Draws) -> str | None:
    path = f"{DEPLOYMENTS}/prod/customer-support.yaml"
    deployment = load(world.read(path)) or {}
    others = [
        label
        for label in world.labels()
        if label not in (deployment.get("version"), deployment.get("previousVersion"))
    ]
    if not others:
        return None
    label = data.draw(st.sampled_from(others), label="previous")
    previous = deployment.get("previousVersion")
    text = world.read(path)
    if previous is None:
        text = text.replace("status:", f"previousVersion: {label}\nstatus:", 1)
    else:
        text = text.replace(f"previousVersion: {previous}", f"previousVersion: {label}", 1)
    world.write(path, text)
    world.commit(f"rewrite prod's previousVersion to {label}")
    made = world.armgit(
        "rollback", TEMPLATE, "--env", "prod", "--reason", "x", "--requested-by", "alice"
    )
    if made.returncode != 0:  # not deployable there: the rewrite alone is the attack
        done(world, False, "")
        return f"rewrite prod's previousVersion to {label}"
    return done(world, True, f"roll back prod to {label}")


@attack
def parentless_lower_risk(world: World, data: Draws) -> str | None:
    from armgit.api import hash_file

    world.serial += 1
    label = f"4.{world.serial}.0"
    text = world.read(f"{VERSIONS}/2.0.0.yaml")
    old_hash = str((load(text) or {}).get("genomeHash"))
    text = text.replace("label: 2.0.0", f"label: {label}").replace(
        "lifecycle: APPROVED", "lifecycle: DRAFT"
    )
    text = "\n".join(line for line in text.splitlines() if not line.startswith("parent:")) + "\n"
    text = text.replace('["billing:refund"], risk: high', '["billing:refund"], risk: low')
    path = f"{VERSIONS}/{label}.yaml"
    world.write(path, text)
    new_hash = hash_file(world.path(path)).genome_hash
    ok = new_hash is not None and world.replace(path, old_hash, new_hash)
    return done(world, ok, f"parentless {label} lowers refund_issue's risk")


@attack
def attach_wider_policy(world: World, data: Draws) -> str | None:
    # a plain policy one tier above support-prod (a ceiling would grant nothing)
    text = world.path(f"{T}/policies/support-prod.yaml").read_text()
    wide = text.replace("name: support-prod", "name: support-wide")
    world.write(
        f"{T}/policies/support-wide.yaml", wide.replace("autonomyTier: 2", "autonomyTier: 3")
    )
    ok = world.replace(
        f"{INSTANCES}/support-prod-1.yaml", "policy: support-prod", "policy: support-wide"
    )
    return done(world, ok, "attach support-wide (tier 3) to support-prod-1")


@attack
def huge_number(world: World, data: Draws) -> str | None:
    places = [
        ("tenants/arm-dev/tenant.yaml", "region: eu-west-1", "region: eu-west-1\n  quota: 1e400"),
        ("tenants/arm-dev/policies/support-default.yaml", "monthlyCost: 300", "monthlyCost: 1e400"),
        (f"{DEPLOYMENTS}/prod/customer-support.yaml", "steps: [10, 50, 100]", "steps: [10, 1e400]"),
    ]
    path, old, new = data.draw(st.sampled_from(places), label="where")
    return done(world, world.replace(path, old, new), f"1e400 in {path}")


@attack
def gate_off_and_deploy(world: World, data: Draws) -> str | None:
    env = "tenants/arm-dev/environments/prod.yaml"
    world.replace(env, "protected: true", "protected: false")
    world.replace(env, "requiredApprovals: 1", "requiredApprovals: 0")
    world.replace(env, "minLifecycle: APPROVED", "minLifecycle: CANDIDATE")
    current = (load(world.read(f"{DEPLOYMENTS}/prod/customer-support.yaml")) or {}).get("version")
    labels = [x for x in in_state(world, "CANDIDATE", "APPROVED") if x != current]
    if not labels:
        return done(world, False, "")
    label = data.draw(st.sampled_from(labels), label="deploy")
    made = world.armgit("deploy", f"{TEMPLATE}@{label}", "--env", "prod", "--requested-by", "alice")
    return done(world, made.returncode == 0, f"prod's gate off and {label} deployed there")


@attack
def settings_edit(world: World, data: Draws) -> str | None:
    edits = [
        ("protectedBranches: [main]", "protectedBranches: []"),
        ("protectedBranches: [main]", "protectedBranches: [main, release]"),
        ("VERSION_PROMOTION, count: 1", "VERSION_PROMOTION, count: 0"),
        (
            'permission: "approve:versions", expiresIn: 48h}\n  - {requestType: DEPLOYMENT',
            'permission: "write:versions", expiresIn: 48h}\n  - {requestType: DEPLOYMENT',
        ),
        ("description: The ARM", "description: Edited. The ARM"),
    ]
    old, new = data.draw(st.sampled_from(edits), label="setting")
    return done(world, world.replace("armgit.yaml", old, new), f"armgit.yaml: {new[:40]}")


@attack
def outside_file(world: World, data: Draws) -> str | None:
    path = data.draw(st.sampled_from([".github/workflows/x.yml", "pip/__main__.py"]), label="file")
    world.write(path, "# runs next to the signing key\n")
    return done(world, True, f"add {path}")


@attack
def self_escalate(world: World, data: Draws) -> str | None:
    ok = world.replace("tenants/arm-dev/operators/alice.yaml", "role: engineer", "role: admin")
    return done(world, ok, "alice makes herself admin")


SHAPES = (
    "ff",
    "no-ff",
    "squash",
    "rebase",
    "octopus",
    "side-first",
    "orphan-first",
    "update-branch",
    "old-main-merge",
)


def land(world: World, side: str, shape: str) -> str:
    """Put branch ``side`` (grown from origin/main) onto main in ``shape``; the commit to push."""
    base = world.git("rev-parse", "origin/main")
    tip = world.git("rev-parse", side)
    tree = world.git("rev-parse", f"{side}^{{tree}}")
    if shape == "ff":
        return tip
    if shape == "rebase":
        world.git("rebase", "-q", "--force-rebase", "origin/main")
        return world.git("rev-parse", "HEAD")
    if shape == "side-first":  # main merged into the pull request: the side is first parent
        return world.git("commit-tree", tree, "-p", tip, "-p", base, "-m", "merge main into side")
    if shape == "update-branch":  # GitHub's "Update branch", then the merge button
        updated = world.git("commit-tree", tree, "-p", tip, "-p", base, "-m", "Update branch")
        return world.git("commit-tree", tree, "-p", base, "-p", updated, "-m", f"Merge {side}")
    if shape == "old-main-merge":  # the side's tip, with files taken from an OLD main commit
        old = world.git("rev-parse", "-q", "--verify", f"{base}^", check=False)
        if not old:
            return tip
        world.git("checkout", "-q", "-B", f"{side}-landing", tip)
        for path in world.git("diff", "--name-only", old, base).split()[:2]:
            world.git("checkout", old, "--", path, check=False)  # absent there: left as is
        taken = world.git("write-tree")
        world.git("reset", "-q", "--hard", tip)
        return world.git("commit-tree", taken, "-p", tip, "-p", old, "-m", "merge an old main")
    if shape == "orphan-first":  # a new root carrying the side's tree, then main merged in
        root = world.git("commit-tree", tree, "-m", "a new root")
        return world.git("commit-tree", tree, "-p", root, "-p", base, "-m", "merge main")
    world.git("checkout", "-q", "-B", f"{side}-landing", "origin/main")
    if shape == "no-ff":
        world.git("merge", "-q", "--no-ff", "-m", f"Merge {side}", side)
    elif shape == "squash":
        world.git("merge", "-q", "--squash", side)
        world.commit(f"{side} (squashed)")
    elif shape == "octopus":
        other = world.fresh_branch("other")
        world.commit("an empty proposal")
        world.git("checkout", "-q", f"{side}-landing")
        world.git("merge", "-q", "--no-ff", "-m", f"Merge {side} and {other}", side, other)
    return world.git("rev-parse", "HEAD")
