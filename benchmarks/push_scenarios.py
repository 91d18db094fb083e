"""Push scenarios: a real ``git push`` of a three-file change, with and without armgit's hook.

Both remotes are bare copies of the same generated registry. The change (a new DRAFT version
whose parent exists, its prompt file, the dev deployment moved to it) is committed once in a
client copy; before every push each remote's ``main`` is reset to the old head with
``git update-ref``, so every run sends the same commit and the hook judges the same range.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pygit2

from benchmarks.generate import commit_change, final_fleet
from benchmarks.suite import MEASURED, Bench, Outcome, ScenarioError, Stats, run_checked

# an operator of every generated tenant with the engineer role: write:versions, write:deployments
PUSHER = "dave"


@dataclass(frozen=True, slots=True)
class PushRig:
    plain: Path  # bare remote, no hook
    hooked: Path  # bare remote with ``armgit hooks install --server``
    client: Path
    base: str  # main before the change
    change: str  # the commit that adds the three files


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
    fleet = final_fleet(bench.options)
    paths = fleet.new_draft(7)
    if len(paths) != 3:
        raise ScenarioError(f"expected a three-file change, got {paths}")
    files = {p: fleet.files[p] for p in paths}
    change = commit_change(
        client,
        "refs/heads/main",
        files,
        "new draft for the push benchmark\n",
        base.commit_time + 60,
    )
    env = bench.env(ARMGIT_PUSHER=PUSHER)
    run_checked(bench.armgit("hooks", "install", "--server", str(hooked)), env=env)
    rig = PushRig(plain, hooked, client_path, str(base.id), str(change))
    # a first push of each kind: the hook must accept the change, or the numbers mean nothing
    for remote in (plain, hooked):
        _push(bench, rig, remote)
    bench.shared["push-rig"] = rig
    return rig


def _reset(rig: PushRig, remote: Path) -> None:
    run_checked([_git(), "-C", str(remote), "update-ref", "refs/heads/main", rig.base])


def _push(bench: Bench, rig: PushRig, remote: Path) -> None:
    _reset(rig, remote)
    argv = [
        _git(),
        "-C",
        str(rig.client),
        "push",
        "-q",
        str(remote),
        f"{rig.change}:refs/heads/main",
    ]
    run_checked(argv, env=bench.env(ARMGIT_PUSHER=PUSHER))


def _measure_push(bench: Bench, remote: Path) -> Stats:
    rig = push_rig(bench)
    argv = [
        _git(),
        "-C",
        str(rig.client),
        "push",
        "-q",
        str(remote),
        f"{rig.change}:refs/heads/main",
    ]
    env = bench.env(ARMGIT_PUSHER=PUSHER)

    def push() -> None:
        run_checked(argv, env=env)

    return bench.measure(push, setup=lambda: _reset(rig, remote))


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


def _startup(bench: Bench) -> Stats:
    known = bench.shared.get("hook-startup")
    if isinstance(known, Stats):
        return known
    rig = push_rig(bench)
    env = bench.env(GIT_DIR=str(rig.hooked), ARMGIT_PUSHER=PUSHER)
    stats = bench.measure(lambda: _run_hook(rig, env, b""))
    bench.shared["hook-startup"] = stats
    return stats


def _run_hook(rig: PushRig, env: dict[str, str], stdin: bytes) -> None:
    run_checked(_hook_argv(rig), env=env, stdin=stdin, cwd=rig.hooked)


def hook_startup(bench: Bench) -> Outcome:
    stats = _startup(bench)
    note = "the installed pre-receive script with empty stdin, in the bare repository: imports"
    return Outcome(MEASURED, stats, note)


def hook_work(bench: Bench) -> Outcome:
    """The hook run by hand on the pushed update (objects already in the remote), minus the
    median start-up: what the hook does for the three files."""
    rig = push_rig(bench)
    startup = _startup(bench).median
    env = bench.env(GIT_DIR=str(rig.hooked), ARMGIT_PUSHER=PUSHER)
    update = f"{rig.base} {rig.change} refs/heads/main\n".encode()
    _reset(rig, rig.hooked)
    whole = bench.measure(lambda: _run_hook(rig, env, update))
    work = Stats(tuple(max(s - startup, 0.0) for s in whole.samples))
    note = (
        f"the hook on the real update ({whole.median * 1000:.0f} ms median, worst "
        f"{whole.high * 1000:.0f} ms) minus the start-up median ({startup * 1000:.0f} ms)"
    )
    return Outcome(
        MEASURED, work, note, {"hook_total_median_s": whole.median, "hook_total_max_s": whole.high}
    )
