"""Check that ``armgit audit`` prints byte for byte what a reference armgit prints.

    python benchmarks/audit_check.py REPO REFERENCE_SOURCE_DIR [--args "..."]...

``REPO`` is copied (the copy's caches are deleted); ``REFERENCE_SOURCE_DIR`` is a directory
holding another armgit's ``armgit/`` package (e.g. ``git archive main armgit | tar -x -C DIR``).
Each argument set runs with the reference (no cache), then with this armgit cold (its audit
cache deleted), after deriving only part of the history (``--rev main~N`` first), and cached.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ARGS = (
    "--format jsonl",
    "--format csv",
    "--format table",
    "--format jsonl --tenant acme-00 --type VERSION_TRANSITIONED --type deployment_activated",
    "--format csv --since 2025-01-06T20:00:00Z --until 2025-01-07",
    "--format jsonl --target acme-00/policy/support-prod",
    "--format jsonl --rev main~300",
    "--format jsonl --type NOPE",
)


def _run(python_path: str, repo: Path, args: str, no_cache: bool) -> tuple[int, bytes]:
    env = {**os.environ, "PYTHONPATH": python_path}
    env.pop("ARMGIT_NO_CACHE", None)
    if no_cache:
        env["ARMGIT_NO_CACHE"] = "1"
    argv = [sys.executable, "-m", "armgit", "audit", "--repo", str(repo), *shlex.split(args)]
    done = subprocess.run(argv, capture_output=True, env=env, check=False, cwd=python_path)
    return done.returncode, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("reference", type=Path)
    parser.add_argument("--args", action="append", dest="cases")
    parser.add_argument("--partial", default="main~150", help="derived first, for incremental")
    options = parser.parse_args()
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        shutil.copytree(options.repo, repo, symlinks=True)
        git_dir = repo if (repo / "objects").is_dir() else repo / ".git"
        for args in options.cases or DEFAULT_ARGS:
            expected = _run(str(options.reference.resolve()), repo, args, True)
            for state in ("cold", "partial", "cached"):
                if state != "cached":
                    shutil.rmtree(git_dir / "armgit" / "audit", ignore_errors=True)
                if state == "partial":
                    _run(str(ROOT), repo, f"--format jsonl --rev {options.partial}", False)
                actual = _run(str(ROOT), repo, args, False)
                same = actual == expected
                failures += not same
                print(f"{'same' if same else 'DIFFERENT'}: {state:8} {args}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
