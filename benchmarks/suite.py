"""The benchmark framework: scenarios in a table, timing with warm-up, medians and ranges, goals.

A scenario is one small function registered in :data:`benchmarks.scenarios.SCENARIOS`. It names
the armgit commands it needs; when one does not exist yet (``python -m armgit CMD --help`` fails)
the scenario is reported as "not yet available", never faked.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from benchmarks.fleet import Fleet
from benchmarks.generate import GENERATOR_VERSION, Options, final_fleet, generate

ROOT = Path(__file__).resolve().parent.parent

MEASURED = "measured"
NOT_YET = "not yet available"
UNAVAILABLE = "unavailable"
FAILED = "failed"


def human_time(seconds: float) -> str:
    """``1.23 s``, ``45 ms``, ``3.2 us``: a duration in the unit that reads best (a difference
    of two timings may be below zero)."""
    if seconds < 0:
        return "-" + human_time(-seconds)
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f} ms" if seconds >= 0.1 else f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.2f} us"


class ScenarioError(Exception):
    """A scenario could not run (a command failed, a peer is missing)."""


class Unavailable(ScenarioError):
    """A peer or tool the scenario needs is not there (and could not be installed)."""


@dataclass(frozen=True, slots=True)
class Stats:
    """Wall-clock seconds of the timed runs (warm-up runs excluded)."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        return min(self.samples)

    @property
    def high(self) -> float:
        return max(self.samples)

    def to_json(self) -> dict[str, object]:
        return {
            "median_s": self.median,
            "min_s": self.low,
            "max_s": self.high,
            "runs": len(self.samples),
            "samples_s": list(self.samples),
        }


@dataclass(slots=True)
class Outcome:
    """What one scenario gave: a status, its timings (if measured) and a note."""

    status: str
    stats: Stats | None = None
    note: str = ""
    metrics: dict[str, float] = field(default_factory=dict)  # e.g. p50_s, p99_s, per_s


@dataclass(frozen=True, slots=True)
class Scenario:
    """One row of the table. ``peer_of`` names the armgit scenario a peer is compared with."""

    name: str
    group: str
    title: str
    run: Callable[[Bench], Outcome] | None
    requires: tuple[str, ...] = ()
    peer_of: str | None = None


@dataclass(frozen=True, slots=True)
class Goal:
    """A goal of issue 5; ``check`` returns (status, what was measured) from the outcomes."""

    text: str
    check: Callable[[dict[str, Outcome]], tuple[str, str]]


@dataclass(slots=True)
class Bench:
    """What every scenario shares: sizes, repetitions, the output folder, fixtures."""

    out: Path
    options: Options
    repeat: int = 5
    warmup: int = 1
    install_peers: bool = True
    history: int = 10_000
    notes: list[str] = field(default_factory=list)
    shared: dict[str, object] = field(default_factory=dict)  # what scenarios of a group reuse
    _commands: dict[str, bool] = field(default_factory=dict)
    # the interpreter armgit's commands run with: this one on the checkout (the default), or a
    # venv's with armgit installed from the checkout (see ``install_armgit``)
    python: str = sys.executable

    @property
    def versions(self) -> int:
        o = self.options
        return o.tenants * o.templates * o.versions_per_template

    def armgit(self, *args: str) -> list[str]:
        """The command line of ``armgit ARGS``: installed, the venv's console script, as users
        run it (``python -m`` would put the working directory, the checkout, first on the path
        and import the package from there); from the checkout, ``python -m armgit``."""
        if self.python != sys.executable:
            return [str(Path(self.python).parent / "armgit"), *args]
        return [self.python, "-m", "armgit", *args]

    def env(self, **extra: str) -> dict[str, str]:
        """The environment armgit runs in: run from the checkout, the local package first on
        the path; installed, the environment as it is."""
        if self.python != sys.executable:
            return {**os.environ, **extra}
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        return {**os.environ, "PYTHONPATH": path, **extra}

    def install_armgit(self) -> None:
        """Run armgit as it is deployed: a venv (``out/venv-armgit``) with the checkout
        installed as a regular package, bytecode compiled. From the checkout instead, start-up
        would also pay for the editable install's import hook and whatever ``.pth`` files the
        machine's own site-packages hold (on the benchmark machine, ~45 ms a command)."""
        venv = self.out / "venv-armgit"
        python = venv / "bin" / "python"
        try:
            if not python.exists():
                run_checked([sys.executable, "-m", "venv", str(venv)])
                run_checked([str(python), "-m", "pip", "install", "-q", str(ROOT)])
            # the checkout as it is now (even if its version number did not change), built
            # from a copy: an in-tree build/ would keep files the checkout no longer has
            source = self.out / "armgit-src"
            shutil.rmtree(source, ignore_errors=True)
            source.mkdir(parents=True)
            for name in ("pyproject.toml", "README.md"):
                shutil.copy2(ROOT / name, source / name)
            shutil.copytree(
                ROOT / "armgit", source / "armgit", ignore=shutil.ignore_patterns("__pycache__")
            )
            pip = [str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall"]
            run_checked([*pip, "--compile", str(source)])
        except ScenarioError as exc:
            raise ScenarioError(f"could not install armgit into {venv}: {exc}") from exc
        self.python = str(python)

    def has_command(self, command: str) -> bool:
        """Whether ``armgit COMMAND`` exists, asked of the CLI itself."""
        if command not in self._commands:
            result = subprocess.run(
                self.armgit(command, "--help"),
                env=self.env(),
                capture_output=True,
                check=False,
            )
            self._commands[command] = result.returncode == 0
        return self._commands[command]

    def fixture(self, kind: str) -> Path:
        """A generated registry of the bench's size, made once and kept in ``out/fixtures/``
        under a key of the generator's arguments: ``repo`` (one commit, with a work tree),
        ``bare`` (the same, bare) or ``history`` (``self.history`` commits, bare)."""
        if kind == "history" and self.history <= 1:
            kind = "bare"  # a one-commit history is the fleet's own commit: the bare fixture
        o = replace(self.options, history=self.history) if kind == "history" else self.options
        key = (
            f"g{GENERATOR_VERSION}-t{o.tenants}-m{o.templates}-v{o.versions_per_template}"
            f"-s{o.seed}-h{o.history}"
        )
        path = self.out / "fixtures" / key / kind
        done = path.with_suffix(".done")
        if not done.exists():
            shutil.rmtree(path, ignore_errors=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            repo = path.with_name("repo")
            if kind == "bare" and repo.with_suffix(".done").exists():
                # the same commit ids: a bare clone of the work-tree fixture, not a second
                # generation (minutes at 100,000 versions)
                run_checked(["git", "clone", "-q", "--bare", str(repo), str(path)])
                head = repo.with_suffix(".done").read_text()
            else:
                head = generate(path, o, bare=kind != "repo").head + "\n"
            done.write_text(head)
        return path

    def final_fleet(self) -> Fleet:
        """The generated fleet with every step applied (the registry at the fixture's head,
        but for the approval files, which the scenarios' changes do not need), simulated once
        per run: the push and audit scenarios add their changes to it."""
        known = self.shared.get("final-fleet")
        if isinstance(known, Fleet):
            return known
        fleet = final_fleet(self.options, approvals=False)
        self.shared["final-fleet"] = fleet
        return fleet

    def peer_python(self, *packages: str) -> Path:
        """The Python of the peers' venv (``out/venv-peers``), with ``packages`` installed
        there if they are not yet; :class:`Unavailable` if they cannot be."""
        venv = self.out / "venv-peers"
        python = venv / "bin" / "python"
        missing = [p for p in packages if not _installed(python, p)]
        if not missing:
            return python
        if not self.install_peers:
            raise Unavailable(f"{', '.join(missing)} not installed (run without --no-install)")
        try:
            if not python.exists():
                run_checked([sys.executable, "-m", "venv", str(venv)])
            run_checked([str(python), "-m", "pip", "install", "-q", *missing])
        except ScenarioError as exc:
            raise Unavailable(f"could not install {', '.join(missing)}: {exc}") from exc
        return python

    def measure(
        self,
        action: Callable[[], None],
        setup: Callable[[], None] | None = None,
        *,
        repeat: int | None = None,
        warmup: int | None = None,
        budget: float | None = None,
    ) -> Stats:
        """Run ``action`` ``warmup`` times untimed, then ``repeat`` times timed (the bench's
        settings unless given); ``setup`` runs before each, untimed. With ``budget``, timed runs
        stop once they have taken that many seconds in all (after at least one)."""
        warmup = self.warmup if warmup is None else warmup
        samples: list[float] = []
        for i in range(warmup + (self.repeat if repeat is None else repeat)):
            if budget is not None and samples and sum(samples) >= budget:
                break
            if setup is not None:
                setup()
            started = time.perf_counter()
            action()
            elapsed = time.perf_counter() - started
            if i >= warmup:
                samples.append(elapsed)
        return Stats(tuple(samples))


def _installed(python: Path, package: str) -> bool:
    if not python.exists():
        return False
    probe = [str(python), "-m", "pip", "show", "-q", package]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def run_checked(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    ok: Sequence[int] = (0,),
    stdin: bytes | None = None,
    cwd: Path | None = None,
    stdout: Path | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run a command, raising :class:`ScenarioError` with its output if it fails; ``stdout``:
    a file its output is written to (as a user's ``> file``) instead of a pipe into this
    process, whose reading would be timed too."""
    if stdout is None:
        result = subprocess.run(
            list(argv), env=env, input=stdin, cwd=cwd, capture_output=True, check=False
        )
    else:
        with stdout.open("wb") as sink:
            result = subprocess.run(
                list(argv),
                env=env,
                input=stdin,
                cwd=cwd,
                stdout=sink,
                stderr=subprocess.PIPE,
                check=False,
            )
        result.stdout = b""
    if result.returncode not in ok:
        output = (result.stdout + result.stderr).decode(errors="replace")[-2000:]
        raise ScenarioError(f"{' '.join(argv[:4])} ... exited {result.returncode}:\n{output}")
    return result


def run_scenario(bench: Bench, scenario: Scenario) -> Outcome:
    """Run one scenario, turning a missing command or peer into a status, not a crash."""
    missing = [c for c in scenario.requires if not bench.has_command(c)]
    if scenario.run is None or missing:
        what = ", ".join(f"armgit {c}" for c in missing) or "its implementation"
        return Outcome(NOT_YET, note=f"needs {what}")
    try:
        return scenario.run(bench)
    except Unavailable as exc:
        return Outcome(UNAVAILABLE, note=str(exc))
    except ScenarioError as exc:
        return Outcome(FAILED, note=str(exc))
