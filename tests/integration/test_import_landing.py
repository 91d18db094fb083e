"""Landing an import through the pre-receive hook (docs/import.md): a real bare server with the
hook, real ``git push``. The import lands when ``imports`` in ``armgit.yaml`` at the base of the
push names its mark and the pusher; an authorisation arriving in the same push authorises
nothing."""

from __future__ import annotations

from pathlib import Path

from tests.import_helpers import BRANCH, grant, import_samples, push, served


def test_an_import_authorised_at_the_base_lands(tmp_path: Path) -> None:
    git = served(tmp_path)
    assert git("rev-list", "--count", "HEAD") == "1"
    grant(git, genesis=True)
    first = push(git)  # the server's first push: the grant is now the base's
    assert first.returncode == 0, first.stderr
    import_samples(git)
    git("merge", "-q", "--no-ff", BRANCH, "-m", "Merge the ARM import")
    # only the operator the grant names lands it: anyone else is judged as any pusher
    assert push(git, "mallory").returncode != 0
    landed = push(git)
    assert landed.returncode == 0, landed.stderr
    # schema, references and hashes stay strict: an edit to an imported genome is refused
    version = git.path / "tenants/arm-dev/templates/customer-support-agent/versions/1.0.0.yaml"
    version.write_text(version.read_text().replace("PLACEHOLDER", "VERIFIED"))
    git("commit", "-qam", "the hash was fine really")
    edited = push(git)
    assert edited.returncode != 0
    assert "genome-immutable" in edited.stderr


def test_an_authorisation_in_the_same_push_authorises_nothing(tmp_path: Path) -> None:
    git = served(tmp_path)
    assert push(git).returncode == 0
    grant(git, genesis=False)  # on main, but not yet on the server
    import_samples(git)
    git("merge", "-q", "--no-ff", BRANCH, "-m", "Merge the ARM import")
    refused = push(git)
    assert refused.returncode != 0
    # the import's own gates are findings, not notices, besides the grant's trust change
    assert "tenants/arm-dev/" in refused.stderr
    assert "approval-required" in refused.stderr


def test_a_grant_for_another_export_authorises_nothing(tmp_path: Path) -> None:
    git = served(tmp_path)
    grant(git, "sha256:" + "0" * 64, genesis=True)
    assert push(git).returncode == 0
    import_samples(git)
    git("merge", "-q", "--no-ff", BRANCH, "-m", "Merge the ARM import")
    refused = push(git)
    assert refused.returncode != 0
    assert "approval-required" in refused.stderr
