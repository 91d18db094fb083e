"""Publishing the index (SPEC 7a): versions that never repeat or go backwards on any path,
a publish that cannot read the last version failing loudly, file modes, indexSigners enforced,
the trust-root file, and `armgit index status` for monitoring."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import stat
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.conftest import GIT_ENV, REPO_ROOT, Git, run_armgit
from tests.index_helpers import ssh_keygen


def payload_of(index: Path) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(
        base64.b64decode(json.loads(index.read_bytes())["payload"])
    )
    return payload


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class Files:
    """A loopback HTTP server serving files from a directory (404 for the rest)."""

    def __init__(self, root: Path) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = root / self.path.lstrip("/")
                if not path.is_file():
                    self.send_error(404)
                    return
                body = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def files(tmp_path: Path) -> Iterator[Files]:
    (tmp_path / "www").mkdir()
    server = Files(tmp_path / "www")
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
    thread.join()


def compile_(repo: Git, out: Path, key: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_armgit(
        "compile", "--repo", str(repo.path), "--rev", "HEAD", "--key", str(key), "--out",
        str(out), *extra,
    )  # fmt: skip


def test_by_hand_versions_grow_and_a_publish_without_the_last_fails(
    example_repo: Git, tmp_path: Path, files: Files
) -> None:
    key, _, _ = ssh_keygen(tmp_path, "index")
    out = tmp_path / "www" / "index.json"
    lost = compile_(example_repo, out, key)  # nothing says which version was published last
    assert lost.returncode == 2
    assert "cannot establish the last published version" in lost.stderr
    assert "--first-publish" in lost.stderr
    assert not out.exists()

    assert compile_(example_repo, out, key, "--first-publish").returncode == 0
    assert payload_of(out)["version"] == 1
    assert mode_of(out) == 0o644  # a web server can read it
    second = compile_(example_repo, out, key)  # --out is the published file: its version + 1
    assert second.returncode == 0, second.stderr
    assert payload_of(out)["version"] == 2
    by_url = tmp_path / "next.json"
    third = compile_(example_repo, by_url, key, "--previous", f"{files.url}/index.json")
    assert third.returncode == 0, third.stderr
    assert payload_of(by_url)["version"] == 3
    published = base64.b64decode(json.loads(out.read_bytes())["payload"])
    assert payload_of(by_url)["previous"] == "sha256:" + hashlib.sha256(published).hexdigest()

    gone = compile_(example_repo, by_url, key, "--previous", f"{files.url}/missing.json")
    assert gone.returncode == 2
    assert "cannot establish the last published version" in gone.stderr
    assert "HTTP 404" in gone.stderr
    tenant = tmp_path / "tenant.json"
    scoped = compile_(example_repo, tenant, key, "--tenant", "arm-dev", "--previous", str(out))
    assert scoped.returncode == 2  # another scope's counter
    assert "covers *, not arm-dev" in scoped.stderr


def test_the_ci_workflow_script_numbers_each_publish_and_re_signs_only_the_record(
    example_repo: Git, tmp_path: Path, files: Files
) -> None:
    workflow = YAML(typ="safe").load((REPO_ROOT / "docs/github/armgit-publish.yml").read_text())
    assert workflow["on"]["schedule"] == [{"cron": "17 */6 * * *"}]  # re-signed every 6 hours
    steps = workflow["jobs"]["compile"]["steps"]
    script = next(s["run"] for s in steps if s.get("name", "").startswith("Compile and sign"))
    key, _, public = ssh_keygen(tmp_path, "index")
    runner = tmp_path / "runner"
    runner.mkdir()
    www = tmp_path / "www"

    def run(first: str = "") -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            **GIT_ENV,
            "PYTHONPATH": str(REPO_ROOT),
            "ARMGIT_INDEX_KEY": key.read_text(),
            "ARMGIT_INDEX_PUBLIC_KEY": public,
            "INDEX_URL": f"{files.url}/index.json",
            "FIRST_PUBLISH": "yes" if first == "publish" else "",
            "FIRST_TIMESTAMP": "yes" if first == "timestamp" else "",
            "FIRST_TENANTS": "yes" if first == "tenants" else "",
            "RUNNER_TEMP": str(runner),
            "GITHUB_SERVER_URL": "https://github.example",
            "GITHUB_REPOSITORY": "acme/agents",
        }
        return subprocess.run(  # as GitHub's runners run a step's script
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=example_repo.path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    def versions(where: Path) -> tuple[int, int]:
        index: int = payload_of(where / "index.json")["version"]
        stamp: int = payload_of(where / "timestamp.json")["version"]
        assert payload_of(where / "timestamp.json")["index"]["version"] == index
        return index, stamp

    tenants: dict[str, list[tuple[int, int]]] = {}  # each tenant's files, publish by publish

    def publish() -> tuple[int, int]:  # what actions/deploy-pages does with the artifact
        site = example_repo.path / "site"
        assert sorted(p.name for p in (site / "tenants").iterdir()) == sorted(
            payload_of(site / "index.json")["tenants"]
        )
        shutil.rmtree(www, ignore_errors=True)  # the site is replaced whole
        shutil.copytree(site, www)
        shutil.rmtree(site)
        for tenant in (www / "tenants").iterdir():
            assert payload_of(tenant / "index.json")["scope"] == {"tenants": [tenant.name]}
            assert mode_of(tenant / "index.json") == 0o644
            tenants.setdefault(tenant.name, []).append(versions(tenant))
        return versions(www)

    lost = run()  # nothing published yet, and not told it is the first time
    assert lost.returncode == 2, lost.stdout + lost.stderr
    assert "cannot establish the last published version" in lost.stderr
    assert run("publish").returncode == 0
    assert publish() == (1, 1)
    assert tenants == {"arm-dev": [(1, 1)]}
    first_bytes = (www / "index.json").read_bytes()
    for stamp in (2, 3):  # the 6-hourly re-sign of an unchanged commit: the record only
        again = run()
        assert again.returncode == 0, again.stdout + again.stderr
        assert "re-signing timestamp.json only" in again.stdout
        assert publish() == (1, stamp)
        assert (www / "index.json").read_bytes() == first_bytes  # runtimes download nothing
    template = example_repo.path / "tenants/arm-dev/templates/customer-support/template.yaml"
    template.write_text(template.read_text() + "# a change\n")
    example_repo.commit_all("a change")
    changed = run()
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert publish() == (2, 4)
    assert not list(runner.glob("index-key*"))  # the key file was removed
    # the tenant's own files: kept while the commit was, numbered after themselves
    assert tenants["arm-dev"] == [(1, 1), (1, 2), (1, 3), (2, 4)]

    # a tenant added since the last publish starts at 1; the others go on
    two = example_repo.path / "tenants/arm-two"
    shutil.copytree(example_repo.path / "tenants/arm-dev", two)
    for path in two.rglob("*.yaml"):
        if "/versions/" not in path.as_posix():  # a released genome never changes
            path.write_text(path.read_text().replace("arm-dev", "arm-two"))
    example_repo.commit_all("a second tenant")
    added = run()
    assert added.returncode == 0, added.stdout + added.stderr
    assert publish() == (3, 5)
    assert (tenants["arm-dev"][-1], tenants["arm-two"]) == ((3, 5), [(1, 1)])

    # a tenant the published index holds whose own file is gone: fails loudly
    shutil.rmtree(www / "tenants/arm-two")
    gone = run()
    assert gone.returncode == 2, gone.stdout + gone.stderr
    assert "cannot establish the last published version" in gone.stderr
    assert "tenants/arm-two/index.json" in gone.stderr
    # ... as before tenant files existed: started by hand, each tenant at 1 again
    shutil.rmtree(www / "tenants")
    assert run("tenants").returncode == 0
    assert publish() == (3, 6)  # kept: the commit is unchanged
    assert (tenants["arm-dev"][-1], tenants["arm-two"][-1]) == ((1, 1), (1, 1))

    (www / "timestamp.json").unlink()  # an index published before the record existed
    missing = run()
    assert missing.returncode == 2
    assert "cannot establish the last published timestamp" in missing.stderr
    assert run("timestamp").returncode == 0
    assert publish() == (3, 1)
    assert tenants["arm-dev"][-1] == (1, 2)  # its own record goes on: only the whole's was new


def with_signers(repo: Git, threshold: int, *lines: str) -> None:
    config = repo.path / "armgit.yaml"
    text = config.read_text()
    text = text[: text.index("indexSigners:")] if "indexSigners:" in text else text  # ours, last
    keys = "".join(
        f"    - {{name: k{i}, publicKey: '{line.strip()}'}}\n" for i, line in enumerate(lines)
    )
    config.write_text(text + f"indexSigners:\n  threshold: {threshold}\n  keys:\n{keys}")
    repo.commit_all("index signers")


def test_timestamp_refuses_a_key_not_in_index_signers(example_repo: Git, tmp_path: Path) -> None:
    """`armgit index timestamp` checks indexSigners where it sees the registry (--repo, or run
    in one), as compile does; in a publish directory it has nothing to check against."""
    listed, _, listed_line = ssh_keygen(tmp_path, "listed")
    stray, _, _ = ssh_keygen(tmp_path, "stray")
    with_signers(example_repo, 1, listed_line)
    www = tmp_path / "www"
    www.mkdir()
    index = www / "index.json"
    assert compile_(example_repo, index, listed, "--first-publish").returncode == 0
    stamp = www / "timestamp.json"

    def timestamp(key: Path, *where: str, cwd: Path | None = None) -> Any:
        args = ("index", "timestamp", str(index), "--key", str(key), "--out", str(stamp))
        return run_armgit(*args, "--first-publish", *where, cwd=cwd)

    for refused in (
        timestamp(stray, "--repo", str(example_repo.path)),
        timestamp(stray, "--repo", str(example_repo.path), "--rev", "HEAD"),
        timestamp(stray, cwd=example_repo.path),  # run in the registry
    ):
        assert refused.returncode == 2, refused.stdout
        assert "is not listed in armgit.yaml indexSigners (k0 SHA256:" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert not stamp.exists()
    made = timestamp(listed, "--repo", str(example_repo.path))
    assert made.returncode == 0, made.stderr
    assert "timestamp version 1" in made.stdout
    stamp.unlink()
    # outside any registry (a publish directory): no indexSigners to hold it to
    unseen = timestamp(stray, cwd=www)
    assert unseen.returncode == 0, unseen.stderr


def test_index_signers_enforced_and_the_trust_root_written_from_them(
    example_repo: Git, tmp_path: Path
) -> None:
    listed, _, listed_line = ssh_keygen(tmp_path, "listed")
    stray, _, _ = ssh_keygen(tmp_path, "stray")
    with_signers(example_repo, 1, listed_line)
    out = tmp_path / "index.json"
    refused = compile_(example_repo, out, stray, "--first-publish")
    assert refused.returncode == 2
    assert "is not listed in armgit.yaml indexSigners (k0 SHA256:" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not out.exists()
    assert compile_(example_repo, out, listed, "--first-publish").returncode == 0

    root = tmp_path / "root.json"
    args = ("index", "root", "--repo", str(example_repo.path), "--rev", "HEAD")
    by_stray = run_armgit(*args, "--key", str(stray), "--out", str(root))
    assert by_stray.returncode == 2
    assert "would not be accepted" in by_stray.stderr
    made = run_armgit(*args, "--key", str(listed), "--out", str(root))
    assert made.returncode == 0, made.stderr
    assert "trust root version 1, 1 of 1 key(s)" in made.stdout
    assert mode_of(root) == 0o644
    pinned = run_armgit("index", "verify", str(out), "--root", str(root))
    assert pinned.returncode == 0, pinned.stdout + pinned.stderr

    # rotation: the new root lists another key, signed by the old root's key and its own
    other, _, other_line = ssh_keygen(tmp_path, "other")
    config = example_repo.path / "armgit.yaml"
    config.write_text(config.read_text().replace(listed_line.strip(), other_line.strip()))
    example_repo.commit_all("rotate the index key")
    rotated = tmp_path / "root-2.json"
    rotate = ("--previous-root", str(root), "--out", str(rotated))
    alone = run_armgit(*args, "--key", str(other), *rotate)
    assert alone.returncode == 2  # signed only by its own key: no runtime would follow it
    both = run_armgit(*args, "--key", str(listed), "--key", str(other), *rotate)
    assert both.returncode == 0, both.stderr
    assert "trust root version 2" in both.stdout

    with_signers(example_repo, 2, other_line, listed_line)  # now two signatures are needed
    short = compile_(example_repo, tmp_path / "two.json", other, "--first-publish")
    assert short.returncode == 2
    assert "needs 2 signatures" in short.stderr
    two = compile_(
        example_repo, tmp_path / "two.json", other, "--key", str(listed), "--first-publish"
    )
    assert two.returncode == 0, two.stderr


@pytest.mark.parametrize(
    ("expires_in", "warn_within", "code", "state"),
    [
        ("7d", None, 0, "ok"),  # 7 days left of 7: outside the default window (a quarter)
        ("7d", "8d", 1, "warn"),  # inside an explicit window
        ("2d", "1d", 0, "ok"),
    ],
)
def test_index_status_inside_and_outside_the_window(
    example_repo: Git,
    tmp_path: Path,
    files: Files,
    expires_in: str,
    warn_within: str | None,
    code: int,
    state: str,
) -> None:
    key, _, _ = ssh_keygen(tmp_path, "index")
    out = tmp_path / "www" / "index.json"
    made = compile_(example_repo, out, key, "--first-publish", "--expires-in", expires_in)
    assert made.returncode == 0, made.stderr
    window = ("--warn-within", warn_within) if warn_within else ()
    for source in (str(out), f"{files.url}/index.json"):
        result = run_armgit("index", "status", source, *window, "--format", "json")
        assert result.returncode == code, result.stdout + result.stderr
        report = json.loads(result.stdout)
        assert report["status"] == state
        assert report["version"] == 1
        assert report["scope"] == {"tenants": ["*"]}
        assert report["secondsLeft"] > 0
    text = run_armgit("index", "status", str(out), *window)
    assert text.returncode == code
    assert f": {state}" in text.stdout
    assert "expires " in text.stdout


def test_index_status_of_an_expired_or_missing_index(example_repo: Git, tmp_path: Path) -> None:
    key, _, _ = ssh_keygen(tmp_path, "index")
    out = tmp_path / "old.json"
    old = ("--issued-at", "2020-01-01T00:00:00Z", "--expires-in", "7d", "--first-publish")
    assert compile_(example_repo, out, key, *old).returncode == 0
    expired = run_armgit("index", "status", str(out))
    assert expired.returncode == 1
    assert "expired" in expired.stderr
    missing = run_armgit("index", "status", str(tmp_path / "nothing.json"))
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr


def test_init_lists_the_index_key_and_the_root_and_index_follow(tmp_path: Path) -> None:
    key, _, line = ssh_keygen(tmp_path, "index")
    registry = tmp_path / "agents"
    made = run_armgit(
        "init", str(registry), "--admin-email", "ops@example.com", "--index-key", f"{key}.pub"
    )
    assert made.returncode == 0, made.stderr
    assert "armgit index root" in made.stdout
    text = (registry / "armgit.yaml").read_text()
    assert f'publicKey: "{" ".join(line.split()[:2])}"' in text
    root = tmp_path / "root.json"
    at = ("--repo", str(registry), "--rev", "main")
    assert run_armgit("index", "root", *at, "--key", str(key), "--out", str(root)).returncode == 0
    out = tmp_path / "index.json"
    compiled = run_armgit("compile", *at, "--key", str(key), "--out", str(out), "--first-publish")
    assert compiled.returncode == 0, compiled.stderr
    assert run_armgit("index", "verify", str(out), "--root", str(root)).returncode == 0
