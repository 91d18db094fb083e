"""Push scenarios: a real ``git push`` of a three-file change, with and without armgit's hook.

Both remotes are bare copies of the same generated registry. A change is a new DRAFT version
whose parent exists, its prompt file and the dev deployment moved to it; the client holds one
per push, each on top of the same head and each for another template. Before every push the
remote's ``main`` is reset to that head with ``git update-ref``, and the push sends a change the
remote has never seen: its objects are new to it and its files new to the hook's content cache,
as on a real push.
"""

from __future__ import annotations

import shutil
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import pygit2

from benchmarks.generate import commit_change
from benchmarks.suite import MEASURED, Bench, Outcome, ScenarioError, Stats, run_checked

# an operator of every generated tenant with the engineer role: write:versions, write:deployments
PUSHER = "dave"


@dataclass(frozen=True, slots=True)
class PushRig:
    plain: Path  # bare remote, no hook
    hooked: Path  # bare remote with ``armgit hooks install --server``
    client: Path
    base: str  # main before the changes
    changes: tuple[str, ...]  # one commit per push, each adding three files on top of base
    used: list[int]  # how many changes each remote was sent so far: [plain, hooked]

    def next_change(self, remote: Path) -> str:
        """A change ``remote`` has not been sent yet."""
        slot = 0 if remote == self.plain else 1
        if self.used[slot] >= len(self.changes):
            raise ScenarioError(f"only {len(self.changes)} distinct changes were made")
        self.used[slot] += 1
        return self.changes[self.used[slot] - 1]


def _git() -> str:
    return shutil.which("git") or "git"


def push_rig(bench: Bench) -> PushRig:
    """The remotes and the client, made once per run."""
    rig = bench.shared.get("push-rig")
    if isinstance(rig, PushRig):
        return rig
    pristine = bench.fixture("bare")
    work = bench.out / "work" / "push"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    plain, hooked, client_path = work / "plain.git", work / "hooked.git", work / "client.git"
    for target in (plain, hooked, client_path):
        shutil.copytree(pristine, target)
    client = pygit2.Repository(str(client_path))
    base = client.revparse_single("refs/heads/main").peel(pygit2.Commit)
    fleet = bench.final_fleet()
    # per remote: the first push below, then warm-up and timed runs (and hook-work's runs)
    count = 2 * (bench.warmup + bench.repeat + 1)
    if count > len(fleet.templates):
        raise ScenarioError(f"{count} pushes need as many templates, the fleet has fewer")
    changes = []
    for i in range(count):
        paths = fleet.new_draft(i)
        if len(paths) != 3:
            raise ScenarioError(f"expected a three-file change, got {paths}")
        ref = f"refs/bench/change-{i}"
        client.references.create(ref, base.id, force=True)
        files = {p: fleet.files[p] for p in paths}
        message = "new draft for the push benchmark\n"
        changes.append(str(commit_change(client, ref, files, message, base.commit_time + 60)))
    env = bench.env(ARMGIT_PUSHER=PUSHER)
    run_checked(bench.armgit("hooks", "install", "--server", str(hooked)), env=env)
    rig = PushRig(plain, hooked, client_path, str(base.id), tuple(changes), [0, 0])
    # a first push of each kind: the hook must accept the change, or the numbers mean nothing
    for remote in (plain, hooked):
        _push(bench, rig, remote)
    bench.shared["push-rig"] = rig
    return rig


def _reset(rig: PushRig, remote: Path) -> None:
    run_checked([_git(), "-C", str(remote), "update-ref", "refs/heads/main", rig.base])


def _push_argv(rig: PushRig, remote: Path, change: str, ref: str = "refs/heads/main") -> list[str]:
    force = "" if ref == "refs/heads/main" else "+"  # main only ever moves forward
    return [_git(), "-C", str(rig.client), "push", "-q", str(remote), f"{force}{change}:{ref}"]


def _push(bench: Bench, rig: PushRig, remote: Path) -> None:
    _reset(rig, remote)
    argv = _push_argv(rig, remote, rig.next_change(remote))
    run_checked(argv, env=bench.env(ARMGIT_PUSHER=PUSHER))


def _measure_push(bench: Bench, remote: Path) -> Stats:
    rig = push_rig(bench)
    env = bench.env(ARMGIT_PUSHER=PUSHER)
    argv: list[str] = []

    def setup() -> None:
        _reset(rig, remote)
        argv[:] = _push_argv(rig, remote, rig.next_change(remote))

    def push() -> None:
        run_checked(argv, env=env)

    return bench.measure(push, setup=setup)


def push_without_hook(bench: Bench) -> Outcome:
    stats = _measure_push(bench, push_rig(bench).plain)
    return Outcome(MEASURED, stats, f"{bench.versions} versions in the remote; 3 files per push")


def push_with_hook(bench: Bench) -> Outcome:
    stats = _measure_push(bench, push_rig(bench).hooked)
    note = (
        f"the same push into a copy with the pre-receive hook (pusher {PUSHER}, an engineer); "
        f"accepted every time; worst {stats.high * 1000:.0f} ms"
    )
    return Outcome(MEASURED, stats, note)


def _hook_argv(rig: PushRig) -> list[str]:
    return [str(rig.hooked / "hooks" / "pre-receive")]  # what git runs: the installed script


def _run_hook(rig: PushRig, env: dict[str, str], stdin: bytes) -> None:
    run_checked(_hook_argv(rig), env=env, stdin=stdin, cwd=rig.hooked)


def hook_startup(bench: Bench) -> Outcome:
    rig = push_rig(bench)
    env = bench.env(GIT_DIR=str(rig.hooked), ARMGIT_PUSHER=PUSHER)
    stats = bench.measure(lambda: _run_hook(rig, env, b""))
    note = "the installed pre-receive script with empty stdin, in the bare repository: imports"
    return Outcome(MEASURED, stats, note)


def hook_work(bench: Bench) -> Outcome:
    """The hook run by hand on a pushed update, minus a start-up run (empty stdin) made just
    before it: what the hook does for the three files. Each pair is taken back to back, so a
    slow spell of the machine shows in both halves, not in the difference. Each run's change is
    first pushed to a branch the hook does not check, so its objects are in the remote and its
    files still new to the hook."""
    rig = push_rig(bench)
    env = bench.env(GIT_DIR=str(rig.hooked), ARMGIT_PUSHER=PUSHER)
    update = [b""]
    startups: list[float] = []

    def setup() -> None:
        _reset(rig, rig.hooked)
        change = rig.next_change(rig.hooked)
        argv = _push_argv(rig, rig.hooked, change, "refs/heads/bench-objects")
        run_checked(argv, env=bench.env(ARMGIT_PUSHER=PUSHER))
        update[0] = f"{rig.base} {change} refs/heads/main\n".encode()
        started = time.perf_counter()
        _run_hook(rig, env, b"")
        startups.append(time.perf_counter() - started)

    whole = bench.measure(lambda: _run_hook(rig, env, update[0]), setup=setup)
    paired = startups[len(startups) - len(whole.samples) :]
    work = Stats(tuple(w - s for w, s in zip(whole.samples, paired, strict=True)))
    note = (
        f"the hook on a pushed update of new files ({whole.median * 1000:.0f} ms median, worst "
        f"{whole.high * 1000:.0f} ms) minus a start-up run just before each "
        f"({statistics.median(paired) * 1000:.0f} ms median)"
    )
    return Outcome(
        MEASURED, work, note, {"hook_total_median_s": whole.median, "hook_total_max_s": whole.high}
    )
