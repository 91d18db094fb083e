"""SSHSIG interoperability with real, stock OpenSSH (``ssh-keygen -Y sign`` / ``-Y verify``).

Keys are made by ``ssh-keygen`` itself in a temporary directory; every signature made by one
side is checked by the other, and both refuse the same tampering.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from armgit.crypto.sshkeys import PublicKey, parse_private_key, parse_public_key, public_key_of
from armgit.crypto.sshsig import APPROVAL_NAMESPACE, SignatureError, parse_armored, sign, verify

SSH_KEYGEN = shutil.which("ssh-keygen")
pytestmark = pytest.mark.skipif(
    SSH_KEYGEN is None, reason="ssh-keygen (OpenSSH) is not installed; interop cannot be checked"
)

PRINCIPAL = "alice@example.invalid"
MESSAGE = b'{"decision":"APPROVE","subject":{"kind":"Version","ref":"support@2.0.0"}}'
KEY_SPECS = {
    "ed25519": ["-t", "ed25519"],
    "ecdsa-p256": ["-t", "ecdsa", "-b", "256"],
    "ecdsa-p384": ["-t", "ecdsa", "-b", "384"],
    "ecdsa-p521": ["-t", "ecdsa", "-b", "521"],
    "rsa-3072": ["-t", "rsa", "-b", "3072"],
}


@dataclass(frozen=True, slots=True)
class OpensshKey:
    """A key pair made by ssh-keygen and an allowed_signers file naming PRINCIPAL for it."""

    private: Path
    public: Path
    allowed_signers: Path

    def public_key(self) -> PublicKey:
        return parse_public_key(self.public.read_text())


def ssh_keygen(*args: str | Path, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    assert SSH_KEYGEN is not None
    env = {key: value for key, value in os.environ.items() if key != "SSH_AUTH_SOCK"}
    result = subprocess.run(
        [SSH_KEYGEN, *map(str, args)],
        input=stdin,
        capture_output=True,
        check=False,
        env=env,
    )
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(), result.stderr.decode()
    )


@pytest.fixture(scope="module", params=sorted(KEY_SPECS))
def key(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> OpensshKey:
    name: str = request.param
    directory = tmp_path_factory.mktemp(name)
    private = directory / "id"
    made = ssh_keygen("-q", *KEY_SPECS[name], "-N", "", "-C", f"{name}@test", "-f", private)
    assert made.returncode == 0, made.stderr
    public = directory / "id.pub"
    allowed = directory / "allowed_signers"
    allowed.write_text(f"{PRINCIPAL} {public.read_text().strip()}\n")
    return OpensshKey(private=private, public=public, allowed_signers=allowed)


@pytest.fixture
def message_file(tmp_path: Path) -> Path:
    path = tmp_path / "statement.json"
    path.write_bytes(MESSAGE)
    return path


def openssh_verify(
    key: OpensshKey, signature: str, tmp_path: Path, *, message: bytes, namespace: str
) -> subprocess.CompletedProcess[str]:
    sig_file = tmp_path / "statement.sig"
    sig_file.write_text(signature)
    return ssh_keygen(
        "-Y", "verify",
        "-f", key.allowed_signers,
        "-I", PRINCIPAL,
        "-n", namespace,
        "-s", sig_file,
        stdin=message,
    )  # fmt: skip


def openssh_sign(key: OpensshKey, message_file: Path, hash_alg: str = "sha512") -> str:
    sig_file = message_file.with_name(message_file.name + ".sig")
    sig_file.unlink(missing_ok=True)
    made = ssh_keygen(
        "-Y", "sign",
        "-f", key.private,
        "-n", APPROVAL_NAMESPACE,
        "-O", f"hashalg={hash_alg}",
        message_file,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return sig_file.read_text()


@pytest.mark.parametrize("hash_alg", ["sha512", "sha256"])
def test_ssh_keygen_accepts_our_signature(key: OpensshKey, tmp_path: Path, hash_alg: str) -> None:
    ours = sign(MESSAGE, key.private.read_bytes(), APPROVAL_NAMESPACE, hash_alg)
    checked = openssh_verify(key, ours, tmp_path, message=MESSAGE, namespace=APPROVAL_NAMESPACE)
    assert checked.returncode == 0, checked.stderr
    assert f'Good "{APPROVAL_NAMESPACE}" signature for {PRINCIPAL}' in checked.stdout


@pytest.mark.parametrize("hash_alg", ["sha512", "sha256"])
def test_we_accept_ssh_keygen_signature(key: OpensshKey, message_file: Path, hash_alg: str) -> None:
    theirs = openssh_sign(key, message_file, hash_alg)
    assert parse_armored(theirs).hash_algorithm == hash_alg
    other = public_key_of(parse_private_key(_throwaway_ed25519(message_file.parent)))
    signer = verify(theirs, MESSAGE, APPROVAL_NAMESPACE, [other, key.public_key()])
    assert signer == key.public_key()


def test_signature_layout_matches_ssh_keygen(key: OpensshKey, message_file: Path) -> None:
    theirs = openssh_sign(key, message_file)
    ours = sign(MESSAGE, key.private.read_bytes(), APPROVAL_NAMESPACE)
    if key.public_key().key_type in ("ssh-ed25519", "ssh-rsa"):
        assert ours == theirs  # deterministic signature schemes: byte-identical output
        return
    ours_fields, theirs_fields = parse_armored(ours), parse_armored(theirs)
    assert ours_fields.public_key == theirs_fields.public_key
    assert ours_fields.signature[:23] == theirs_fields.signature[:23]  # string "ecdsa-sha2-..."
    for text in (ours, theirs):
        lines = text.split("\n")
        assert lines[0] == "-----BEGIN SSH SIGNATURE-----"
        assert lines[-2:] == ["-----END SSH SIGNATURE-----", ""]
        assert {len(line) for line in lines[1:-3]} == {70}


def test_wrong_namespace_refused_by_both(
    key: OpensshKey, message_file: Path, tmp_path: Path
) -> None:
    for signature in (openssh_sign(key, message_file), _ours(key)):
        checked = openssh_verify(key, signature, tmp_path, message=MESSAGE, namespace="git")
        assert checked.returncode != 0
        with pytest.raises(SignatureError, match="namespace mismatch"):
            verify(signature, MESSAGE, "git", [key.public_key()])


def test_tampered_message_refused_by_both(
    key: OpensshKey, message_file: Path, tmp_path: Path
) -> None:
    tampered = MESSAGE.replace(b"APPROVE", b"REJECT!")
    for signature in (openssh_sign(key, message_file), _ours(key)):
        checked = openssh_verify(
            key, signature, tmp_path, message=tampered, namespace=APPROVAL_NAMESPACE
        )
        assert checked.returncode != 0
        with pytest.raises(SignatureError, match="bad signature"):
            verify(signature, tampered, APPROVAL_NAMESPACE, [key.public_key()])


def test_fingerprint_and_public_line_match_ssh_keygen(key: OpensshKey) -> None:
    listed = ssh_keygen("-l", "-E", "sha256", "-f", key.public)
    assert listed.returncode == 0, listed.stderr
    assert key.public_key().fingerprint == listed.stdout.split()[1]
    derived = ssh_keygen("-y", "-f", key.private)
    assert derived.returncode == 0, derived.stderr
    ours = public_key_of(parse_private_key(key.private.read_bytes()))
    assert ours.to_line() == " ".join(derived.stdout.split()[:2])
    assert ours.fingerprint == key.public_key().fingerprint


def _ours(key: OpensshKey) -> str:
    return sign(MESSAGE, key.private.read_bytes(), APPROVAL_NAMESPACE)


def _throwaway_ed25519(directory: Path) -> bytes:
    path = directory / "other"
    made = ssh_keygen("-q", "-t", "ed25519", "-N", "", "-f", path)
    assert made.returncode == 0, made.stderr
    return path.read_bytes()
