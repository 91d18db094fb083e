"""The adversarial suite (issue 16, item 9): random sequences of legal steps, attacks, merges of
every shape, orphan roots, branch creation and deletion, force-pushes and settings edits, pushed
by operators of every permission to a real bare server with armgit's pre-receive hook.

After every push:
1. accepted onto main: ``armgit verify`` on the server says INTEGRITY_VERIFIED;
2. a fast-forward push to main by a named pusher: ``armgit check --base OLD --head NEW
   --author PUSHER`` exits 0 exactly when the hook accepted (ref-level refusals, force-pushes,
   a tip that does not reach the old one through first parents,
   deletions and a push with no pusher at all, which check cannot see, are left out);
3. refused: the server's refs are exactly as before and no object of the push is kept;
4. accepted onto main: the oracle of tests/adversary.py (written without armgit's code) finds
   nothing broken between the old tip and the new;
5. after any push: the server's own ``git`` shows main as its ref holds it (no tag named like
   it, no ``git replace`` substitute).

The holes it finds are pinned one by one in test_push_holes.py.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from tests.adversary import (
    ADMIN,
    ENGINEER,
    INSTANCES,
    PUSHERS,
    VERSIONS,
    Push,
    World,
    author_of,
    load,
    oracle,
)
from tests.adversary_moves import ATTACKS, LEGAL, SHAPES, land
from tests.approval_helpers import needs_ssh_keygen

pytestmark = needs_ssh_keygen
Ex = TypeVar("Ex")

EDITS = sorted(LEGAL) + sorted(ATTACKS)
MOVES = {**LEGAL, **ATTACKS}
# what a step does, weighted: most steps land a proposal on main in some shape
MOVE_KINDS = ("land", "land", "land", "land", "legal", "legal", "rewrite", "branch", "ref")
# refs beside the branches: a tag, a tag or remote-tracking ref named like a protected branch,
# a replacement of main's tip
OTHER_REFS = ("refs/tags/v1", "refs/tags/main", "refs/tags/release", "refs/remotes/main", "replace")


class Adversary(RuleBasedStateMachine):
    """One world per example, copied from a template built once per session."""

    template: Path
    found: list[str] | None = None  # exploring: collect what breaks instead of failing

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="armgit-adversary-"))
        self.world = World.copy_of(self.template, self.root)

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def fail(self, invariant: str, push: Push, detail: str) -> None:
        message = f"invariant {invariant} broken by {push.pusher!r} -> {push.ref}: {detail}"
        if self.found is not None:
            self.found.append(message)
            return
        raise AssertionError(f"{message}\n{push.output}")

    def propose(self, data: st.DataObject, names: list[str]) -> str | None:
        """A side branch from main with the named edits; None when none applied."""
        side = self.world.fresh_branch("side")
        made = [MOVES[name](self.world, data) for name in names]
        return side if any(made) else None

    def judge(self, push: Push) -> None:
        world = self.world
        if not world.shown_as_held("main"):
            self.fail("5", push, "the server's git shows main otherwise than its ref holds it")
        if not push.accepted:
            if world.server_refs().get(push.ref) != push.old:
                self.fail("3", push, "a refused push moved the ref")
            if push.new is not None and not push.new_was_on_server and world.on_server(push.new):
                self.fail("3", push, f"a refused push left {push.new[:12]} on the server")
        main = push.ref == "refs/heads/main"
        if not main or push.old is None:
            return
        if push.accepted and push.new is None:
            self.fail("4", push, "main was deleted")
            return
        if push.accepted:
            verified = world.armgit("verify", "--repo", str(world.server))
            if verified.returncode != 0:
                self.fail("1", push, verified.stdout + verified.stderr)
            for broken in oracle(world, push.old, str(push.new), push.pusher):
                self.fail("4", push, broken)
        fast_forward = push.new is not None and world.is_ancestor(push.old, push.new)
        # a fast-forward whose tip does not reach the old one by first parents is refused by
        # the hook (history-rewrite: main's first-parent history only grows); check, which
        # CI runs on pull requests, judges its net change instead
        off_line = not push.accepted and ": history-rewrite: " in push.output
        if push.pusher is not None and fast_forward and not off_line:
            checked = world.armgit(
                "check",
                "--base",
                push.old,
                "--head",
                str(push.new),
                "--author",
                author_of(push.pusher),
            )
            if (checked.returncode == 0) != push.accepted:
                verdict = "accepted" if push.accepted else "refused"
                self.fail("2", push, f"hook {verdict}, check said:\n{checked.stdout}")

    @rule(data=st.data(), move=st.sampled_from(MOVE_KINDS), pusher=st.sampled_from(PUSHERS))
    def play(self, data: st.DataObject, move: str, pusher: str | None) -> None:
        if move == "land":
            names = data.draw(st.lists(st.sampled_from(EDITS), min_size=1, max_size=2), "edits")
            side = self.propose(data, names)
            if side is not None:
                shape = data.draw(st.sampled_from(SHAPES), label="shape")
                self.judge(self.world.push(pusher, land(self.world, side, shape), "main"))
        elif move == "legal":
            name = data.draw(st.sampled_from(sorted(LEGAL)), label="legal")
            side = self.propose(data, [name])
            if side is not None:
                self.judge(self.world.push(ENGINEER if pusher is None else pusher, side, "main"))
        elif move == "rewrite":
            self.rewrite_main(data, pusher)
        elif move == "ref":
            self.other_ref(data, pusher)
        else:
            self.new_branch(data, pusher)

    def rewrite_main(self, data: st.DataObject, pusher: str | None) -> None:
        world = self.world
        how = data.draw(st.sampled_from(["force", "delete", "orphan", "beside-head"]), "how")
        if how == "beside-head":
            self.beside_head(pusher)
            return
        if how == "delete":
            self.judge(world.push(pusher, "", "main", force=True))
            return
        side = world.fresh_branch("rewrite")
        if how == "force" and world.git("rev-parse", "-q", "--verify", "HEAD~1", check=False):
            world.git("reset", "-q", "--hard", "HEAD~1")
        for name in data.draw(st.lists(st.sampled_from(EDITS), max_size=1), label="edits"):
            MOVES[name](world, data)
        tip = world.git("rev-parse", "HEAD")
        if how == "orphan":
            tip = world.git("commit-tree", world.git("rev-parse", f"{side}^{{tree}}"), "-m", "root")
        self.judge(world.push(pusher, tip, "main", force=True))

    def beside_head(self, pusher: str | None) -> None:
        """The server's HEAD names a branch not made yet (``git init``'s default ``master``);
        one push creates it and rewrites a protected branch (release when main's armgit.yaml
        protects it, else main) to an orphan: refused, whoever pushes."""
        world = self.world
        refs = world.server_refs()
        if "refs/heads/master" in refs:
            return
        settings = load(world.show("main", "armgit.yaml")) or {}
        protected = "release" in (settings.get("protectedBranches") or [])
        branch = "release" if protected and "refs/heads/release" in refs else "main"
        world.fresh_branch("beside")
        world.git("checkout", "-q", "--orphan", f"orphan-{world.serial}")
        tip = world.commit("an orphan, pushed beside the creation of master")
        world.server_git("symbolic-ref", "HEAD", "refs/heads/master")
        also = (f"{refs['refs/heads/main']}:refs/heads/master",)
        push = world.push(pusher, tip, branch, force=True, also=also)
        self.judge(push)
        if push.accepted:
            self.fail("4", push, f"protected {branch} rewritten beside the creation of master")

    def other_ref(self, data: st.DataObject, pusher: str | None) -> None:
        world = self.world
        ref = data.draw(st.sampled_from(OTHER_REFS), label="ref")
        world.fresh_branch("ref")
        for name in data.draw(st.lists(st.sampled_from(EDITS), max_size=1), label="edits"):
            MOVES[name](world, data)
        tip = world.commit("beside main")
        if ref == "replace":
            ref = f"refs/replace/{world.server_refs()['refs/heads/main']}"
        self.judge(world.push(pusher, tip, force=True, ref=ref))

    def new_branch(self, data: st.DataObject, pusher: str | None) -> None:
        world = self.world
        branch = data.draw(st.sampled_from(["release", "feature-x"]), label="branch")
        side = world.fresh_branch("branch")
        for name in data.draw(st.lists(st.sampled_from(EDITS), max_size=2), label="edits"):
            MOVES[name](world, data)
        tip = world.git("rev-parse", "HEAD")
        if data.draw(st.booleans(), label="orphan"):
            tip = world.git("commit-tree", world.git("rev-parse", f"{side}^{{tree}}"), "-m", "root")
        settings = load(world.show("main", "armgit.yaml")) or {}
        protected = branch in (settings.get("protectedBranches") or [])
        push = world.push(pusher, tip, branch, force=True)
        self.judge(push)
        if push.accepted and protected and push.old is None:
            # a new protected branch is held to main's rules, as main's armgit.yaml says
            verified = world.armgit(
                "verify", "--repo", str(world.server), "--rev", f"refs/heads/{branch}"
            )
            if verified.returncode != 0:
                self.fail("1", push, verified.stdout)
            main = world.server_refs()["refs/heads/main"]
            for broken in oracle(world, main, tip, pusher):
                self.fail("4", push, broken)


SETTINGS = settings(
    # each step is a real push (a hook run): one to two seconds; ADVERSARY_EXAMPLES=40 for a
    # longer hunt
    max_examples=int(os.environ.get("ADVERSARY_EXAMPLES", "7")),
    stateful_step_count=8,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.generate],  # no shrinking: each step is real git; the failing run is printed
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


def test_an_adversary_cannot_break_the_rules(adversary_template: Path) -> None:
    Adversary.template = adversary_template
    run_state_machine_as_test(Adversary, settings=SETTINGS)


class _NoDraws:
    def draw(self, strategy: st.SearchStrategy[Ex], label: Any = None) -> Ex:
        raise AssertionError("this move draws nothing")


def _around_the_hook(world: World, message: str) -> tuple[str, str]:
    """Commit the work tree and move the server's main to it directly, as someone with shell
    access to the server would (the hook never runs); (old, new)."""
    world.commit(message)
    old, new = world.git("rev-parse", "origin/main"), world.git("rev-parse", "HEAD")
    assert world.push(ADMIN, "HEAD", "staging-area").accepted  # not protected: objects only
    world.server_git("update-ref", "refs/heads/main", new)
    return old, new


def test_the_oracle_sees_what_the_hook_must_refuse(
    adversary_template: Path, tmp_path: Path
) -> None:
    world = World.copy_of(adversary_template, tmp_path)
    side = world.fresh_branch("pr")
    for step in ("new_version", "new_instance"):
        assert MOVES[step](world, _NoDraws())
    old, new = world.git("rev-parse", "origin/main"), world.git("rev-parse", side)
    assert world.push(ENGINEER, side, "main").accepted
    assert oracle(world, old, new, ENGINEER) == []
    world.fresh_branch()
    v20 = f"{VERSIONS}/2.0.0.yaml"
    world.write(v20, world.read(v20).replace("maxTokens: 8192", "maxTokens: 9000"))
    world.path(f"{INSTANCES}/support-prod-1.yaml").unlink()
    world.write(".github/workflows/x.yml", "on: push\n")
    old, new = _around_the_hook(world, "tamper")
    found = " | ".join(oracle(world, old, new, ENGINEER))
    for broken in ("genome-immutable", "instance-deleted", "outside-layout"):
        assert broken in found, found
    tree = world.git("rev-parse", "HEAD^{tree}")
    root = world.git("commit-tree", tree, "-m", "a new root")
    merge = world.git("commit-tree", tree, "-p", root, "-p", new, "-m", "merge")
    world.git("reset", "-q", "--hard", merge)
    assert world.push(ADMIN, "HEAD", "staging-area", force=True).accepted
    world.server_git("update-ref", "refs/heads/main", merge)
    assert oracle(world, new, merge, ADMIN) == [
        "unrelated-history: a root commit was added to main's history"
    ]
