"""SSH keys and SSHSIG signatures: parsing, round trips, OpenSSH test vectors, every refusal."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import functools
import hashlib
import importlib.util
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from armgit.crypto._wire import put_string, put_uint32
from armgit.crypto.sshkeys import (
    CryptoPrivateKey,
    PublicKey,
    SshKeyError,
    from_cryptography,
    parse_private_key,
    parse_public_key,
    parse_public_key_blob,
    public_key_of,
)
from armgit.crypto.sshsig import (
    APPROVAL_NAMESPACE,
    SignatureError,
    SshSig,
    _verify_ed25519,
    _verify_full,
    parse_armored,
    parse_blob,
    sign,
    verify,
)


@dataclasses.dataclass(frozen=True, slots=True)
class OpensshVector:
    key_type: str
    line: str
    fingerprint: str
    signature: str


# Made once with stock OpenSSH 9.2: ssh-keygen -t <type> -C <name>@test, then
# ssh-keygen -Y sign -n armgit-approval over OPENSSH_MESSAGE; fingerprints from ssh-keygen -lf.
OPENSSH_MESSAGE = b"armgit test vector\n"
OPENSSH_VECTORS = [
    OpensshVector(
        key_type="ssh-ed25519",
        line=(
            "ssh-ed25519 "
            "AAAAC3NzaC1lZDI1NTE5AAAAIKyNZ3NQwEEbRZce32qlLgCvo2Oyb8LVYTemlgR+XDfh"
            " ed25519@test"
        ),
        fingerprint="SHA256:ZbFzEsHCvRtDylAeobuYGrEDYPz+/AdrUTG95204l50",
        signature="""\
-----BEGIN SSH SIGNATURE-----
U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAgrI1nc1DAQRtFlx7faqUuAK+jY7
JvwtVhN6aWBH5cN+EAAAAPYXJtZ2l0LWFwcHJvdmFsAAAAAAAAAAZzaGE1MTIAAABTAAAA
C3NzaC1lZDI1NTE5AAAAQJe9wq4HRiKOH2xo/F7FHiNI9qIYfIAFzg55txPer/0DnJQM1/
PYbhQNp3TgbdoQJ5IiRxjfLCXoQaipKNrK9gs=
-----END SSH SIGNATURE-----
""",
    ),
    OpensshVector(
        key_type="ecdsa-sha2-nistp256",
        line=(
            "ecdsa-sha2-nistp256 "
            "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBBriQx34ASEz8irzjsc7vxdxYYQY"
            "4KzEKzs4+/XwwEkDBRiAZVb5KH5LbjCmq47NuZqokWpnSaeFv1MdH4A42cQ="
            " ecdsab256@test"
        ),
        fingerprint="SHA256:BaK03WtiJPi2VTLwCy4ZJhO3EUOQ5xpxfRx5rzmUuLI",
        signature="""\
-----BEGIN SSH SIGNATURE-----
U1NIU0lHAAAAAQAAAGgAAAATZWNkc2Etc2hhMi1uaXN0cDI1NgAAAAhuaXN0cDI1NgAAAE
EEGuJDHfgBITPyKvOOxzu/F3FhhBjgrMQrOzj79fDASQMFGIBlVvkofktuMKarjs25mqiR
amdJp4W/Ux0fgDjZxAAAAA9hcm1naXQtYXBwcm92YWwAAAAAAAAABnNoYTUxMgAAAGMAAA
ATZWNkc2Etc2hhMi1uaXN0cDI1NgAAAEgAAAAgD4wCCpLGiYVCbGgnWGCNcASQfi4btNTq
zVw4hv2orK0AAAAgf1FB1XWCrU31BSIWauvGgLlIoyzUo+RFY4R7mPxLAGY=
-----END SSH SIGNATURE-----
""",
    ),
    OpensshVector(
        key_type="ecdsa-sha2-nistp384",
        line=(
            "ecdsa-sha2-nistp384 "
            "AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBNvJ/wAw5LP+c50QFqz55Yz2C5vC"
            "LUxCuiPABjSHKulIHoPwLbUQ/GSdw9ldqFFhIVwCTyKoP28j/xz92OMwx05zb6oCfrdbl8NF4YpZu+iu"
            "3Ax47s+4HlgoKfFKBugbYg=="
            " ecdsab384@test"
        ),
        fingerprint="SHA256:lBtVSXaNZt+GK/ndp/W9rHHyxQykax38j5rhRC0sUIM",
        signature="""\
-----BEGIN SSH SIGNATURE-----
U1NIU0lHAAAAAQAAAIgAAAATZWNkc2Etc2hhMi1uaXN0cDM4NAAAAAhuaXN0cDM4NAAAAG
EE28n/ADDks/5znRAWrPnljPYLm8ItTEK6I8AGNIcq6Ugeg/AttRD8ZJ3D2V2oUWEhXAJP
Iqg/byP/HP3Y4zDHTnNvqgJ+t1uXw0Xhilm76K7cDHjuz7geWCgp8UoG6BtiAAAAD2FybW
dpdC1hcHByb3ZhbAAAAAAAAAAGc2hhNTEyAAAAhAAAABNlY2RzYS1zaGEyLW5pc3RwMzg0
AAAAaQAAADEAkVCHjXfF0vlMhCwyq27Bjpg6j3SLeWLNiQmJF/89lCG477rhI7t9L0TxgR
LK2h6KAAAAMFv6DTB6Xl1JoPeXdFJ0UwqjaKWnGxGPGtML0hNir/JxsdnpdHo5jMp4aHxP
LkKo2A==
-----END SSH SIGNATURE-----
""",
    ),
    OpensshVector(
        key_type="ecdsa-sha2-nistp521",
        line=(
            "ecdsa-sha2-nistp521 "
            "AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBABlKLYc/Tw4iR4p/V+aoTzjT+/T"
            "YhIhbCfe3EV+7Q6vAqW/RpETyqaFKYf7PMMqAlY/+Eeq3xbR7FzyXYq2oQWT1wCQIbTHCRtNx4RXvCpH"
            "s5wpj8CztOko66cbAWn7O3yL79ZLnSB8Vk/v2UpV2zpmVw6gBBGXoRcp45p4g5Gc3PFK6w=="
            " ecdsab521@test"
        ),
        fingerprint="SHA256:COQ0oz1bYhX6m25lQwnmbZB7jJXZWR3KuSDTUZ3rb0g",
        signature="""\
-----BEGIN SSH SIGNATURE-----
U1NIU0lHAAAAAQAAAKwAAAATZWNkc2Etc2hhMi1uaXN0cDUyMQAAAAhuaXN0cDUyMQAAAI
UEAGUothz9PDiJHin9X5qhPONP79NiEiFsJ97cRX7tDq8Cpb9GkRPKpoUph/s8wyoCVj/4
R6rfFtHsXPJdirahBZPXAJAhtMcJG03HhFe8KkeznCmPwLO06SjrpxsBafs7fIvv1kudIH
xWT+/ZSlXbOmZXDqAEEZehFynjmniDkZzc8UrrAAAAD2FybWdpdC1hcHByb3ZhbAAAAAAA
AAAGc2hhNTEyAAAApgAAABNlY2RzYS1zaGEyLW5pc3RwNTIxAAAAiwAAAEIBe/cmoCAEMO
+TX4w1U3iC68WzuwC7rHMLIp64VckTRSvm95Wtv9SWdCnNQwkV5i4cWbGrYg9jt9IEBu7n
ovtvm7UAAABBQZk/OothwvCsBqI/pxrHUc7oxInt7fsjRzV6UeFb4pi/3HAkJlQmwAhuFm
09fLtVT4yTha3YyQQgE1x+lnwkf3A=
-----END SSH SIGNATURE-----
""",
    ),
    OpensshVector(
        key_type="ssh-rsa",
        line=(
            "ssh-rsa "
            "AAAAB3NzaC1yc2EAAAADAQABAAABAQCvikkNUpw/uA/oVDLtWSiiHF0v5ChhAtbYmu3I/uOMlLR6uxfL"
            "5k+73FHpyVGasI4gHDhf2DPHQK8Yrw8HCLm8BABngUnevEWQdvmsOPMUP3xQWWbqBeQ75zV9GbjSQJ17"
            "Avi9P5cxAKu2BabIynp6xMeKeD3mdqy3hcVv3EESupf1Fr5Ac9W1K1hGMZ1dKyUvmwzaFvJoGhZKGfwG"
            "GnmmVh20hdF5ELp0uL3eeAljNb60PESuvYXPi6tVQ2Htu19G/V+Pb/ZWAsJQ+iQJe43HzTIO5OuBnP8/"
            "QwiwQ6DOfTKol6TRCEZYtmRmn0kYekq6OptQ9XbQmeA/FnzwjKX1"
            " rsab2048@test"
        ),
        fingerprint="SHA256:T354aJmhG0TSmPyzEExArHdUBr22BM/FWgrF93YGFfM",
        signature="""\
-----BEGIN SSH SIGNATURE-----
U1NIU0lHAAAAAQAAARcAAAAHc3NoLXJzYQAAAAMBAAEAAAEBAK+KSQ1SnD+4D+hUMu1ZKK
IcXS/kKGEC1tia7cj+44yUtHq7F8vmT7vcUenJUZqwjiAcOF/YM8dArxivDwcIubwEAGeB
Sd68RZB2+aw48xQ/fFBZZuoF5DvnNX0ZuNJAnXsC+L0/lzEAq7YFpsjKenrEx4p4PeZ2rL
eFxW/cQRK6l/UWvkBz1bUrWEYxnV0rJS+bDNoW8mgaFkoZ/AYaeaZWHbSF0XkQunS4vd54
CWM1vrQ8RK69hc+Lq1VDYe27X0b9X49v9lYCwlD6JAl7jcfNMg7k64Gc/z9DCLBDoM59Mq
iXpNEIRli2ZGafSRh6Sro6m1D1dtCZ4D8WfPCMpfUAAAAPYXJtZ2l0LWFwcHJvdmFsAAAA
AAAAAAZzaGE1MTIAAAEUAAAADHJzYS1zaGEyLTUxMgAAAQBjaAh77DZhBxik6f3oOgDss7
9Cd3mY7R8roE2gUPxNmOyhsC4Ru3hVHiAeSADdZvB36nh8qCMhEXtr7HpEdIpH/ZInAHuZ
RhaaIzF8xsE6Vnz4J3D8A9ncQimNEMbT3k8lZIsnqXxlrV0LTNOMzfSPdNKFS1+Slm+Yb2
ehz1p5GHvFtXwmF826uU+zlHH+YqKQxwGiEubfZAA5k0Bn816f+QMWyHKxkxiD0/kIklNH
Qe+bRx1SDMKwOx+mMvkRRwfGZZKztinsmrWbuk3Z8ijjyVN1jzgSBRbyfozUvxxyRSoqFm
6aMneHJEXV37CjPtuP99y5MYLVNcsK9LKxrhoF
-----END SSH SIGNATURE-----
""",
    ),
]


# The private half of the Ed25519 vector above (a throwaway test key, never used elsewhere).
OPENSSH_ED25519_PRIVATE = b"""\
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACCsjWdzUMBBG0WXHt9qpS4Ar6Njsm/C1WE3ppYEflw34QAAAJBk1MLSZNTC
0gAAAAtzc2gtZWQyNTUxOQAAACCsjWdzUMBBG0WXHt9qpS4Ar6Njsm/C1WE3ppYEflw34Q
AAAEAZo62FvkmD4LRewi0e+FHd/fFtVow49KO+XH4JNZUps6yNZ3NQwEEbRZce32qlLgCv
o2Oyb8LVYTemlgR+XDfhAAAADGVkMjU1MTlAdGVzdAE=
-----END OPENSSH PRIVATE KEY-----
"""

# Ed25519 key encrypted with the passphrase "correct horse" (aes256-ctr, bcrypt KDF).
OPENSSH_ED25519_ENCRYPTED = b"""\
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABBi6EJ2WM
RcWNQYX24U+4ymAAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAII2EvsKTq68Ba5h6
Jph6JWQqiFrwhP/PMIYYlrY0jCKYAAAAkCB4X9ohC6CQ2s8MU89jZYfPwTnK24gFB50qmk
aqL1Pgl22G2wUDqHTzIe7E13O38yrXzZKKi576CLkZteu1V0+BtkedTvYlCjlxGsFXfIVG
24XVv3xlto856/GOk5MpT7oF26E1dWYORyH6PhHBu/kgBOwDpZGozRWjfFs1vUAymBBN4x
YIdvX0H++S0oaUow==
-----END OPENSSH PRIVATE KEY-----
"""

# A 1024-bit DSA key: a type OpenSSH has deprecated and armgit refuses.
OPENSSH_DSA_PRIVATE = b"""\
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABsQAAAAdzc2gtZHNzAAAA
gQCRj+7x79UeryUi4q+1ei02ojnRaOaAbrSZ6VqXCzugfCaiVIro1sDB2Z8GxVL8RdsLC2XqcdnH
8V3tU4MbOQ7gwYMLWqK1V2QHkVduNvZW1fIjoJHLimxoASlByu3ulxv9KtvZqC4fr0Z17L1yHp6K
QLMK/XVZiM2n4b7lselaqQAAABUAiG/nOieaAAGtXSrVVJcIvHpQ9M0AAACAKqetNTmIcwTDGWht
p4sSdJ+uAa1bjMMMF+GxuuuRbtlRKpwCqpuWQ/e2gx1r6gNG1y6G1bJKnLGQDBgQlUiWjbRo8gpc
q0KUUbDfNstm6am93jtofzypn/YDi9izNT862eoaVk1eAhoIuNSoKOJB32SWROocOgNjKMM/HV31
kdoAAACAC2x/tt8NoKN2FqJiX8GoH6CBYJNzMMkmO9nPcCxSYmxdwgFRoN6VVM6vXEkyzwRIqUAt
nvIBsgteSs0ELkTGjRW8snJW1QnMSBiHU1A2/EqmsYhkMxTpjy6UoinC4rQVnnEC87/CcoGV6+ZC
V+DzJl3LqlBBusdHG+uMmizA87YAAAHYqDUO4qg1DuIAAAAHc3NoLWRzcwAAAIEAkY/u8e/VHq8l
IuKvtXotNqI50WjmgG60melalws7oHwmolSK6NbAwdmfBsVS/EXbCwtl6nHZx/Fd7VODGzkO4MGD
C1qitVdkB5FXbjb2VtXyI6CRy4psaAEpQcrt7pcb/Srb2aguH69Gdey9ch6eikCzCv11WYjNp+G+
5bHpWqkAAAAVAIhv5zonmgABrV0q1VSXCLx6UPTNAAAAgCqnrTU5iHMEwxlobaeLEnSfrgGtW4zD
DBfhsbrrkW7ZUSqcAqqblkP3toMda+oDRtcuhtWySpyxkAwYEJVIlo20aPIKXKtClFGw3zbLZump
vd47aH88qZ/2A4vYszU/OtnqGlZNXgIaCLjUqCjiQd9klkTqHDoDYyjDPx1d9ZHaAAAAgAtsf7bf
DaCjdhaiYl/BqB+ggWCTczDJJjvZz3AsUmJsXcIBUaDelVTOr1xJMs8ESKlALZ7yAbILXkrNBC5E
xo0VvLJyVtUJzEgYh1NQNvxKprGIZDMU6Y8ulKIpwuK0FZ5xAvO/wnKBlevmQlfg8yZdy6pQQbrH
RxvrjJoswPO2AAAAFGiHGVqgnXviaPWczD7h6hRsCp0qAAAAAAECAw==
-----END OPENSSH PRIVATE KEY-----
"""


MESSAGE = b'{"decision":"APPROVE","subject":{"kind":"Version"}}'
KINDS = ["ed25519", "p256", "p384", "p521", "rsa"]
_CURVES: dict[str, ec.EllipticCurve] = {
    "p256": ec.SECP256R1(),
    "p384": ec.SECP384R1(),
    "p521": ec.SECP521R1(),
}
_BEGIN = "-----BEGIN SSH SIGNATURE-----"
_END = "-----END SSH SIGNATURE-----"


@functools.cache
def private_key(kind: str) -> CryptoPrivateKey:
    """Fixed keys for every supported kind (RSA is generated once per run)."""
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    if kind in _CURVES:
        return ec.derive_private_key(0x5EED_0F_A991 + len(kind), _CURVES[kind])
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public(kind: str) -> PublicKey:
    return public_key_of(private_key(kind), comment=f"{kind}@test")


@functools.cache
def signed(kind: str = "ed25519", namespace: str = APPROVAL_NAMESPACE) -> str:
    """One signature of MESSAGE per kind and namespace (ECDSA signing is randomized)."""
    return sign(MESSAGE, private_key(kind), namespace)


def armor(blob: bytes) -> str:
    """Armor arbitrary bytes the way ssh-keygen lays out a signature."""
    encoded = base64.b64encode(blob).decode("ascii")
    lines = [encoded[i : i + 70] for i in range(0, len(encoded), 70)]
    return "\n".join([_BEGIN, *lines, _END]) + "\n"


def raw_blob(
    kind: str = "ed25519",
    *,
    magic: bytes = b"SSHSIG",
    version: int = 1,
    public_key: bytes | None = None,
    namespace: bytes = APPROVAL_NAMESPACE.encode(),
    reserved: bytes = b"",
    hash_algorithm: bytes = b"sha512",
    signature: bytes | None = None,
) -> bytes:
    """An SSHSIG blob whose fields default to those of a good signature by ``kind``."""
    good = parse_armored(signed(kind))
    return (
        magic
        + put_uint32(version)
        + put_string(good.public_key if public_key is None else public_key)
        + put_string(namespace)
        + put_string(reserved)
        + put_string(hash_algorithm)
        + put_string(good.signature if signature is None else signature)
    )


def signature_fields(kind: str = "ed25519") -> tuple[bytes, bytes]:
    """The signature type and value inside a good signature by ``kind``."""
    inner = parse_armored(signed(kind)).signature
    type_len = int.from_bytes(inner[:4], "big")
    return inner[4 : 4 + type_len], inner[8 + type_len :]


def with_signature(kind: str, sig_type: bytes | str, value: bytes, extra: bytes = b"") -> str:
    return armor(raw_blob(kind, signature=put_string(sig_type) + put_string(value) + extra))


def rsa_sha1_signature() -> str:
    key = private_key("rsa")
    assert isinstance(key, rsa.RSAPrivateKey)
    digest = hashlib.sha512(MESSAGE).digest()
    to_sign = (
        b"SSHSIG"
        + put_string(APPROVAL_NAMESPACE)
        + put_string(b"")
        + put_string("sha512")
        + put_string(digest)
    )
    value = key.sign(to_sign, padding.PKCS1v15(), hashes.SHA1())
    return with_signature("rsa", "ssh-rsa", value)


def ecdsa_with_padded_r() -> str:
    sig_type, value = signature_fields("p256")
    r_len = int.from_bytes(value[:4], "big")
    r, rest = value[4 : 4 + r_len], value[4 + r_len :]
    return with_signature("p256", sig_type, put_string(b"\0\0" + r) + rest)


def non_canonical(armored: str) -> str:
    """Change the unused low bits of the last base64 character before the padding."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    cut = armored.index("=")
    changed = alphabet[alphabet.index(armored[cut - 1]) ^ 1]
    return armored[: cut - 1] + changed + armored[cut:]


def ed25519_blob(raw: bytes = bytes(32)) -> bytes:
    return put_string("ssh-ed25519") + put_string(raw)


def p256_blob(curve: str = "nistp256", point: bytes | None = None) -> bytes:
    good = public("p256").blob
    if point is None:
        point = good[-65:]
    return put_string("ecdsa-sha2-nistp256") + put_string(curve) + put_string(point)


def rsa_blob(exponent: bytes, modulus: bytes) -> bytes:
    return put_string("ssh-rsa") + put_string(exponent) + put_string(modulus)


def line(key_type: str, blob: bytes, comment: str = "") -> str:
    return f"{key_type} {base64.b64encode(blob).decode('ascii')} {comment}".strip()


# --- public keys ------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", OPENSSH_VECTORS, ids=lambda v: v.key_type)
def test_parse_public_key_matches_ssh_keygen(vector: OpensshVector) -> None:
    key = parse_public_key(vector.line)
    assert key.key_type == vector.key_type
    assert key.fingerprint == vector.fingerprint
    assert key.comment == vector.line.rsplit(" ", 1)[1]
    assert key.to_line() == vector.line
    assert parse_public_key_blob(key.blob) == dataclasses.replace(key, comment="")
    assert from_cryptography(key.to_cryptography(), key.comment) == key


@pytest.mark.parametrize(
    ("text", "comment"),
    [
        (OPENSSH_VECTORS[0].line + "\n", "ed25519@test"),
        ("  " + OPENSSH_VECTORS[0].line + "  ", "ed25519@test"),
        (OPENSSH_VECTORS[0].line.rsplit(" ", 1)[0], ""),
        (OPENSSH_VECTORS[0].line.rsplit(" ", 1)[0] + " Alice Example <a@x>", "Alice Example <a@x>"),
        (OPENSSH_VECTORS[0].line.replace(" ", "\t"), "ed25519@test"),
    ],
    ids=["trailing-newline", "surrounding-space", "no-comment", "comment-with-spaces", "tabs"],
)
def test_parse_public_key_line_shapes(text: str, comment: str) -> None:
    key = parse_public_key(text)
    assert key.comment == comment
    assert key.fingerprint == OPENSSH_VECTORS[0].fingerprint


@pytest.mark.parametrize("kind", KINDS)
def test_public_key_of_round_trips_through_its_line(kind: str) -> None:
    key = public(kind)
    assert parse_public_key(key.to_line()) == key
    expected = (
        private_key(kind)
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    )
    assert key.to_line() == f"{expected.decode('ascii')} {kind}@test"


_P256_LINE = OPENSSH_VECTORS[1].line.rsplit(" ", 1)[0]

PUBLIC_KEY_LINE_REFUSALS = [
    ("empty", "", "needs '<type> <base64"),
    ("type-only", "ssh-ed25519", "needs '<type> <base64"),
    ("dsa", "ssh-dss AAAAB3NzaC1kc3M=", "unsupported key type 'ssh-dss'"),
    ("security-key", "sk-ssh-ed25519@openssh.com AAAA", "unsupported key type 'sk-ssh-ed25519"),
    ("certificate", "ssh-ed25519-cert-v01@openssh.com AAAA", "unsupported key type"),
    ("bad-base64", "ssh-ed25519 AAAA!!!!", "not valid base64"),
    ("unpadded-base64", _P256_LINE.rstrip("="), "not valid base64"),
    ("non-canonical-base64", _P256_LINE[:-2] + "R=", "not canonical base64"),
    ("two-lines", OPENSSH_VECTORS[0].line + "\n" + OPENSSH_VECTORS[0].line, "single line"),
    ("too-long", "ssh-ed25519 " + "A" * 20000, "longer than"),
    ("type-mismatch", line("ssh-rsa", public("ed25519").blob), "does not match the key data"),
    ("truncated", line("ssh-ed25519", public("ed25519").blob[:-1]), "needs 32 bytes, only 31"),
    ("trailing", line("ssh-ed25519", public("ed25519").blob + b"\0"), "1 unexpected trailing"),
]


@pytest.mark.parametrize(
    ("text", "match"),
    [case[1:] for case in PUBLIC_KEY_LINE_REFUSALS],
    ids=[case[0] for case in PUBLIC_KEY_LINE_REFUSALS],
)
def test_parse_public_key_refusals(text: str, match: str) -> None:
    with pytest.raises(SshKeyError, match=match):
        parse_public_key(text)


_P256_POINT = public("p256").blob[-65:]
_RSA_MODULUS_1024 = b"\x00\xc1" + bytes(126) + b"\x01"

PUBLIC_KEY_BLOB_REFUSALS = [
    ("empty", b"", "key type: needs 4 bytes, only 0"),
    ("huge-length", put_uint32(0xFFFFFFFF) + b"ssh", "needs 4294967295 bytes"),
    ("type-not-utf8", put_string(b"\xff\xfe"), "not valid UTF-8"),
    ("type-with-nul", put_string(b"ssh-ed25519\0"), "NUL"),
    ("unknown-type", put_string("ssh-foo") + put_string(b"x"), "unsupported key type 'ssh-foo'"),
    ("ed25519-31-bytes", ed25519_blob(bytes(31)), "must be 32 bytes, not 31"),
    ("ecdsa-curve-mismatch", p256_blob(curve="nistp384"), "data says 'nistp384'"),
    ("ecdsa-compressed", p256_blob(point=b"\x02" + _P256_POINT[1:33]), "not an uncompressed"),
    ("ecdsa-off-curve", p256_blob(point=b"\x04" + bytes(64)), "not on nistp256"),
    ("rsa-1024-bits", rsa_blob(b"\x01\x00\x01", _RSA_MODULUS_1024), "1024 bits"),
    ("rsa-negative", rsa_blob(b"\x81", b"\x00" + _RSA_MODULUS_1024), "negative"),
    ("rsa-leading-zero", rsa_blob(b"\x00\x03", _RSA_MODULUS_1024), "redundant leading zero"),
    ("rsa-zero-byte", rsa_blob(b"\x00", _RSA_MODULUS_1024), "zero is encoded"),
    ("rsa-even-exponent", rsa_blob(b"\x01\x00\x00", b"\x00\xc1" + bytes(254) + b"\x01"), "RSA"),
]


@pytest.mark.parametrize(
    ("blob", "match"),
    [case[1:] for case in PUBLIC_KEY_BLOB_REFUSALS],
    ids=[case[0] for case in PUBLIC_KEY_BLOB_REFUSALS],
)
def test_parse_public_key_blob_refusals(blob: bytes, match: str) -> None:
    with pytest.raises(SshKeyError, match=match):
        parse_public_key_blob(blob)


def test_public_key_constructor_checks_its_blob() -> None:
    with pytest.raises(SshKeyError, match="does not match"):
        PublicKey(key_type="ssh-rsa", blob=public("ed25519").blob)
    with pytest.raises(SshKeyError, match="must be 32 bytes"):
        PublicKey(key_type="ssh-ed25519", blob=ed25519_blob(b"short"))


def test_from_cryptography_refuses_other_curves() -> None:
    key = ec.generate_private_key(ec.SECP256K1()).public_key()
    with pytest.raises(SshKeyError, match="secp256k1"):
        from_cryptography(key)


# --- private keys -----------------------------------------------------------------------------


def test_parse_private_key_gives_the_matching_public_key() -> None:
    key = parse_private_key(OPENSSH_ED25519_PRIVATE)
    assert public_key_of(key, "ed25519@test").to_line() == OPENSSH_VECTORS[0].line


def _private_rsa_1024() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )


PRIVATE_KEY_REFUSALS: list[tuple[str, bytes, bytes | None, str]] = [
    ("garbage", b"not a key", None, "cannot load private key"),
    ("truncated", OPENSSH_ED25519_PRIVATE[:150], None, "cannot load private key"),
    ("public-key", OPENSSH_VECTORS[0].line.encode(), None, "cannot load private key"),
    ("encrypted-no-passphrase", OPENSSH_ED25519_ENCRYPTED, None, "password-protected"),
    ("passphrase-not-needed", OPENSSH_ED25519_PRIVATE, b"secret", "not encrypted"),
    ("dsa", OPENSSH_DSA_PRIVATE, None, "unsupported key type 'ssh-dss'"),
    ("rsa-1024", _private_rsa_1024(), None, "1024 bits"),
]


@pytest.mark.parametrize(
    ("data", "passphrase", "match"),
    [case[1:] for case in PRIVATE_KEY_REFUSALS],
    ids=[case[0] for case in PRIVATE_KEY_REFUSALS],
)
def test_parse_private_key_refusals(data: bytes, passphrase: bytes | None, match: str) -> None:
    with pytest.raises(SshKeyError, match=match):
        parse_private_key(data, passphrase)


def test_encrypted_private_key() -> None:
    """Decrypting needs cryptography's optional bcrypt; without it the error says so."""
    if importlib.util.find_spec("bcrypt") is None:
        with pytest.raises(SshKeyError, match="need the 'bcrypt' package"):
            parse_private_key(OPENSSH_ED25519_ENCRYPTED, b"correct horse")
        return
    key = parse_private_key(OPENSSH_ED25519_ENCRYPTED, b"correct horse")
    assert public_key_of(key).key_type == "ssh-ed25519"
    with pytest.raises(SshKeyError, match="cannot load private key"):
        parse_private_key(OPENSSH_ED25519_ENCRYPTED, b"wrong")


# --- signatures: vectors and round trips ------------------------------------------------------


@pytest.mark.parametrize("vector", OPENSSH_VECTORS, ids=lambda v: v.key_type)
def test_verify_signatures_made_by_ssh_keygen(vector: OpensshVector) -> None:
    key = parse_public_key(vector.line)
    other = public("ed25519")
    signer = verify(vector.signature, OPENSSH_MESSAGE, APPROVAL_NAMESPACE, [other, key])
    assert signer is key


def test_ed25519_signature_is_byte_identical_to_ssh_keygen() -> None:
    ours = sign(OPENSSH_MESSAGE, OPENSSH_ED25519_PRIVATE, APPROVAL_NAMESPACE)
    assert ours == OPENSSH_VECTORS[0].signature


def test_parse_armored_fields() -> None:
    sig = parse_armored(OPENSSH_VECTORS[0].signature)
    assert sig == SshSig(
        version=1,
        public_key=parse_public_key(OPENSSH_VECTORS[0].line).blob,
        namespace="armgit-approval",
        reserved=b"",
        hash_algorithm="sha512",
        signature=sig.signature,
    )
    assert sig.signature.startswith(put_string("ssh-ed25519") + put_uint32(64))
    assert sig.signer_fingerprint == OPENSSH_VECTORS[0].fingerprint
    assert sig.to_armored() == OPENSSH_VECTORS[0].signature
    assert parse_blob(sig.to_blob()) == sig


@pytest.mark.parametrize("hash_alg", ["sha512", "sha256"])
@pytest.mark.parametrize("kind", KINDS)
def test_sign_verify_round_trip(kind: str, hash_alg: str) -> None:
    armored = sign(MESSAGE, private_key(kind), "file", hash_alg)
    assert verify(armored, MESSAGE, "file", [public(kind)]) == public(kind)
    sig = parse_armored(armored)
    assert (sig.namespace, sig.hash_algorithm, sig.reserved) == ("file", hash_alg, b"")
    lines = armored.split("\n")
    assert lines[0] == _BEGIN
    assert lines[-2:] == [_END, ""]
    assert all(len(body) == 70 for body in lines[1:-3])
    assert 0 < len(lines[-3]) <= 70


def test_verify_returns_the_allowed_key_that_signed() -> None:
    allowed = [public("p256"), public("ed25519"), public("rsa")]
    assert verify(signed("ed25519"), MESSAGE, APPROVAL_NAMESPACE, allowed) is allowed[1]


@pytest.mark.parametrize(
    "reshape",
    [
        lambda text: text.replace("\n", "\r\n"),
        lambda text: text.rstrip("\n"),
        lambda text: "\n" + text + "\n\n",
        lambda text: _BEGIN + "\n" + "".join(text.split("\n")[1:-2]) + "\n" + _END,
    ],
    ids=["crlf", "no-final-newline", "surrounding-blank-lines", "one-long-line"],
)
def test_verify_accepts_armor_layout_variants(reshape: Callable[[str], str]) -> None:
    armored = reshape(signed())
    assert verify(armored, MESSAGE, APPROVAL_NAMESPACE, [public("ed25519")]) == public("ed25519")


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("namespace", "hash_alg", "match"),
    [
        ("", "sha512", "namespace must not be empty"),
        ("a\0b", "sha512", "NUL"),
        (APPROVAL_NAMESPACE, "sha1", "unsupported hash algorithm 'sha1'"),
        (APPROVAL_NAMESPACE, "SHA512", "unsupported hash algorithm 'SHA512'"),
    ],
    ids=["empty-namespace", "nul-namespace", "sha1", "uppercase-hash"],
)
def test_sign_refusals(namespace: str, hash_alg: str, match: str) -> None:
    with pytest.raises(SignatureError, match=match):
        sign(MESSAGE, private_key("ed25519"), namespace, hash_alg)


def test_sign_refuses_bad_keys() -> None:
    with pytest.raises(SshKeyError, match="cannot load private key"):
        sign(MESSAGE, b"not a key", APPROVAL_NAMESPACE)
    with pytest.raises(SshKeyError, match="secp256k1"):
        sign(MESSAGE, ec.generate_private_key(ec.SECP256K1()), APPROVAL_NAMESPACE)


@dataclasses.dataclass(frozen=True, slots=True)
class Attempt:
    armored: str
    message: bytes = MESSAGE
    namespace: str = APPROVAL_NAMESPACE
    allowed: tuple[str, ...] = ("ed25519",)


def _replace_body_char(armored: str, char: str) -> str:
    at = len(_BEGIN) + 11
    return armored[:at] + char + armored[at + 1 :]


REFUSALS: list[tuple[str, Callable[[], Attempt], str]] = [
    # armor
    ("empty-text", lambda: Attempt(""), "first line must be"),
    ("no-header", lambda: Attempt(signed().replace(_BEGIN, "-----BEGIN SIG-----")), "first line"),
    ("no-footer", lambda: Attempt(signed().replace(_END, "")), "last line must be"),
    ("nothing-inside", lambda: Attempt(f"{_BEGIN}\n{_END}\n"), "no signature between"),
    ("blank-line-inside", lambda: Attempt(signed().replace("\n", "\n\n", 2)), "empty line"),
    ("bad-base64-char", lambda: Attempt(_replace_body_char(signed(), "*")), "invalid base64"),
    ("non-ascii", lambda: Attempt(_replace_body_char(signed(), "é")), "invalid base64"),
    ("non-canonical-base64", lambda: Attempt(non_canonical(signed())), "not in canonical form"),
    ("too-long", lambda: Attempt("A" * 70000), "longer than 65536"),
    # blob framing
    ("wrong-magic", lambda: Attempt(armor(raw_blob(magic=b"SSHSIH"))), "wrong magic"),
    ("short-magic", lambda: Attempt(armor(b"SSH")), "magic: needs 6 bytes"),
    ("version-0", lambda: Attempt(armor(raw_blob(version=0))), "unsupported SSHSIG version 0"),
    ("version-2", lambda: Attempt(armor(raw_blob(version=2))), "unsupported SSHSIG version 2"),
    ("truncated-end", lambda: Attempt(armor(raw_blob()[:-1])), "signature: needs 83 bytes"),
    ("truncated-length", lambda: Attempt(armor(raw_blob()[:12])), "public key: needs 4 bytes"),
    ("trailing-bytes", lambda: Attempt(armor(raw_blob() + b"\0")), "1 unexpected trailing"),
    (
        "oversized-length",
        lambda: Attempt(armor(b"SSHSIG" + put_uint32(1) + put_uint32(0xFFFFFFF0) + b"xx")),
        "needs 4294967280 bytes, only 2 left",
    ),
    ("namespace-nul", lambda: Attempt(armor(raw_blob(namespace=b"armgit\0x"))), "NUL"),
    ("namespace-not-utf8", lambda: Attempt(armor(raw_blob(namespace=b"\xff"))), "UTF-8"),
    ("hash-sha1", lambda: Attempt(armor(raw_blob(hash_algorithm=b"sha1"))), "hash algorithm"),
    ("hash-sha384", lambda: Attempt(armor(raw_blob(hash_algorithm=b"sha384"))), "'sha384'"),
    # what the signature claims
    ("namespace-mismatch", lambda: Attempt(signed(namespace="git")), "namespace mismatch"),
    ("expected-namespace-empty", lambda: Attempt(signed(), namespace=""), "must not be empty"),
    ("reserved-not-empty", lambda: Attempt(armor(raw_blob(reserved=b"x"))), "reserved field"),
    ("key-not-allowed", lambda: Attempt(signed(), allowed=("p256", "rsa")), "not allowed"),
    ("no-allowed-keys", lambda: Attempt(signed(), allowed=()), "allowed: none"),
    (
        "signature-type-mismatch",
        lambda: Attempt(with_signature("ed25519", "ecdsa-sha2-nistp256", bytes(64))),
        "type 'ecdsa-sha2-nistp256' does not match key type 'ssh-ed25519'",
    ),
    (
        "key-swapped",
        lambda: Attempt(armor(raw_blob(public_key=public("p256").blob)), allowed=("p256",)),
        "type 'ssh-ed25519' does not match key type 'ecdsa-sha2-nistp256'",
    ),
    ("rsa-sha1", lambda: Attempt(rsa_sha1_signature(), allowed=("rsa",)), "refused 'ssh-rsa'"),
    (
        "rsa-foreign-type",
        lambda: Attempt(with_signature("rsa", "ssh-ed25519", bytes(256)), allowed=("rsa",)),
        "'ssh-ed25519' does not match an RSA key",
    ),
    (
        "rsa-short",
        lambda: Attempt(
            with_signature("rsa", "rsa-sha2-512", signature_fields("rsa")[1][1:]),
            allowed=("rsa",),
        ),
        "RSA needs 256 bytes, not 255",
    ),
    (
        "ed25519-short",
        lambda: Attempt(with_signature("ed25519", "ssh-ed25519", bytes(63))),
        "Ed25519 needs 64 bytes, not 63",
    ),
    (
        "signature-trailing",
        lambda: Attempt(with_signature("ed25519", *signature_fields(), extra=b"\0")),
        "signature: 1 unexpected trailing",
    ),
    (
        "signature-truncated",
        lambda: Attempt(armor(raw_blob(signature=put_string("ssh-ed25519") + b"\0"))),
        "signature value: needs 4 bytes",
    ),
    (
        "ecdsa-padded-mpint",
        lambda: Attempt(ecdsa_with_padded_r(), allowed=("p256",)),
        "redundant leading zero",
    ),
    (
        "ecdsa-trailing",
        lambda: Attempt(
            with_signature(
                "p256", signature_fields("p256")[0], signature_fields("p256")[1] + b"\0"
            ),
            allowed=("p256",),
        ),
        "ECDSA signature: 1 unexpected trailing",
    ),
    # the cryptographic check
    ("tampered-message", lambda: Attempt(signed(), message=MESSAGE + b" "), "bad signature"),
    (
        "tampered-value",
        lambda: Attempt(
            with_signature("ed25519", "ssh-ed25519", bytes(1) + signature_fields()[1][1:])
        ),
        "bad signature",
    ),
    ("hash-relabelled", lambda: Attempt(armor(raw_blob(hash_algorithm=b"sha256"))), "bad sig"),
]


@pytest.mark.parametrize(
    ("make", "match"), [case[1:] for case in REFUSALS], ids=[case[0] for case in REFUSALS]
)
def test_verify_refusals(make: Callable[[], Attempt], match: str) -> None:
    attempt = make()
    allowed = [public(kind) for kind in attempt.allowed]
    with pytest.raises(SignatureError, match=match):
        verify(attempt.armored, attempt.message, attempt.namespace, allowed)


@pytest.mark.parametrize("kind", KINDS)
def test_tampered_message_refused_for_every_key_type(kind: str) -> None:
    with pytest.raises(SignatureError, match="bad signature"):
        verify(signed(kind), MESSAGE[:-1], APPROVAL_NAMESPACE, [public(kind)])


# --- properties -------------------------------------------------------------------------------

_MUTATION = st.one_of(
    st.tuples(st.just("xor"), st.integers(0, 2**16), st.binary(min_size=1, max_size=4)),
    st.tuples(st.just("delete"), st.integers(0, 2**16), st.integers(1, 8)),
    st.tuples(st.just("insert"), st.integers(0, 2**16), st.binary(min_size=1, max_size=8)),
)


def _mutate(blob: bytes, mutation: tuple[str, int, bytes | int]) -> bytes:
    op, at, arg = mutation
    at %= len(blob)
    if op == "xor":
        assert isinstance(arg, bytes)
        changed = bytes(b ^ m for b, m in zip(blob[at : at + len(arg)], arg, strict=False))
        return blob[:at] + changed + blob[at + len(changed) :]
    if op == "delete":
        assert isinstance(arg, int)
        return blob[:at] + blob[at + arg :]
    assert isinstance(arg, bytes)
    return blob[:at] + arg + blob[at:]


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(KINDS),
    mutations=st.lists(_MUTATION, min_size=1, max_size=3),
)
def test_mutated_blob_never_verifies(
    kind: str, mutations: list[tuple[str, int, bytes | int]]
) -> None:
    blob = parse_armored(signed(kind)).to_blob()
    mutated = blob
    for mutation in mutations:
        mutated = _mutate(mutated, mutation)
    if mutated == blob:
        return
    with pytest.raises(SignatureError):
        verify(armor(mutated), MESSAGE, APPROVAL_NAMESPACE, [public(kind)])


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(KINDS), data=st.data())
def test_mutated_armor_never_verifies(kind: str, data: st.DataObject) -> None:
    armored = signed(kind)
    at = data.draw(st.integers(0, len(armored) - 1).filter(lambda i: armored[i] != "\n"))
    char = data.draw(st.characters().filter(lambda c: c != armored[at]))
    mutated = armored[:at] + char + armored[at + 1 :]
    with pytest.raises(SignatureError):
        verify(mutated, MESSAGE, APPROVAL_NAMESPACE, [public(kind)])


@settings(max_examples=300)
@given(text=st.one_of(st.text(), st.text().map(lambda t: f"{_BEGIN}\n{t}\n{_END}\n")))
def test_parse_armored_only_raises_signature_error(text: str) -> None:
    with contextlib.suppress(SignatureError):
        parse_armored(text)


@settings(max_examples=300)
@given(blob=st.one_of(st.binary(), st.binary().map(lambda b: b"SSHSIG\0\0\0\1" + b)))
def test_parse_blob_only_raises_signature_error(blob: bytes) -> None:
    with contextlib.suppress(SignatureError):
        parse_blob(blob)


@settings(max_examples=300)
@given(
    text=st.one_of(
        st.text(),
        st.builds(
            lambda t, b: f"{t} {base64.b64encode(b).decode()}",
            st.sampled_from(["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256"]),
            st.binary(),
        ),
    )
)
def test_parse_public_key_only_raises_ssh_key_error(text: str) -> None:
    with contextlib.suppress(SshKeyError):
        parse_public_key(text)


@settings(max_examples=300)
@given(blob=st.one_of(st.binary(), st.binary().map(lambda b: put_string("ssh-rsa") + b)))
def test_parse_public_key_blob_only_raises_ssh_key_error(blob: bytes) -> None:
    with contextlib.suppress(SshKeyError):
        parse_public_key_blob(blob)


def _armor_private(blob: bytes) -> bytes:
    encoded = base64.b64encode(blob)
    body = b"\n".join(encoded[i : i + 70] for i in range(0, len(encoded), 70))
    return (
        b"-----BEGIN OPENSSH PRIVATE KEY-----\n" + body + b"\n-----END OPENSSH PRIVATE KEY-----\n"
    )


@settings(deadline=None, max_examples=200)
@given(
    mutations=st.lists(_MUTATION, min_size=1, max_size=3),
    passphrase=st.sampled_from([None, b"secret"]),
)
def test_mutated_private_key_only_raises_ssh_key_error(
    mutations: list[tuple[str, int, bytes | int]], passphrase: bytes | None
) -> None:
    blob = base64.b64decode(b"".join(OPENSSH_ED25519_PRIVATE.split(b"\n")[1:-2]))
    for mutation in mutations:
        blob = _mutate(blob, mutation)
    with contextlib.suppress(SshKeyError):
        parse_private_key(_armor_private(blob), passphrase)


# --- the Ed25519 fast path: taken for what ssh-keygen writes, never looser than the full path ---


@pytest.mark.parametrize("hash_alg", ["sha512", "sha256"])
def test_ed25519_fast_path_reads_what_ssh_keygen_writes(hash_alg: str) -> None:
    vector = OPENSSH_VECTORS[0]
    key = parse_public_key(vector.line)
    fast = _verify_ed25519(vector.signature, OPENSSH_MESSAGE, APPROVAL_NAMESPACE, [key])
    assert fast is key
    armored = sign(MESSAGE, private_key("ed25519"), "file", hash_alg)
    assert _verify_ed25519(armored, MESSAGE, "file", [public("p256"), public("ed25519")]) == (
        public("ed25519")
    )


@pytest.mark.parametrize(
    ("armored", "message", "namespace", "kind"),
    [
        (signed().replace("\n", "\r\n"), MESSAGE, APPROVAL_NAMESPACE, "ed25519"),  # CRLF
        (signed(), MESSAGE + b"!", APPROVAL_NAMESPACE, "ed25519"),  # does not verify
        (signed(), MESSAGE, "file", "ed25519"),  # another namespace
        (signed(), MESSAGE, APPROVAL_NAMESPACE, "p256"),  # a key that is not allowed
        (signed("p256"), MESSAGE, APPROVAL_NAMESPACE, "p256"),  # not Ed25519
    ],
    ids=["crlf", "tampered", "namespace", "other-key", "ecdsa"],
)
def test_ed25519_fast_path_leaves_the_rest_to_the_full_path(
    armored: str, message: bytes, namespace: str, kind: str
) -> None:
    assert _verify_ed25519(armored, message, namespace, [public(kind)]) is None


@settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    mutations=st.lists(_MUTATION, min_size=1, max_size=3),
    hash_alg=st.sampled_from(["sha512", "sha256"]),
)
def test_ed25519_fast_path_accepts_only_what_the_full_path_accepts(
    mutations: list[tuple[str, int, bytes | int]], hash_alg: str
) -> None:
    blob = parse_armored(sign(MESSAGE, private_key("ed25519"), "file", hash_alg)).to_blob()
    for mutation in mutations:
        blob = _mutate(blob, mutation)
    allowed = [public("ed25519")]
    fast = _verify_ed25519(armor(blob), MESSAGE, "file", allowed)
    if fast is not None:
        assert _verify_full(armor(blob), MESSAGE, "file", allowed) is fast


@pytest.mark.parametrize("hash_alg", ["sha512", "sha256"])
def test_ed25519_fast_path_for_every_namespace_length(hash_alg: str) -> None:
    # the armor's fixed head ends anywhere in a line, or at its end, as the namespace grows
    key = public("ed25519")
    for size in range(1, 120):
        namespace = "n" * size
        armored = sign(MESSAGE, private_key("ed25519"), namespace, hash_alg)
        assert _verify_ed25519(armored, MESSAGE, namespace, [key]) is key, size
        assert _verify_ed25519(armored.rstrip("\n"), MESSAGE, namespace, [key]) is key, size


@settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(
            st.sampled_from(["replace", "insert", "delete"]),
            st.integers(0, 400),
            st.sampled_from(["\n", "\r", " ", "=", "A", "a", "/", "+", "-", "é"]),
        ),
        min_size=1,
        max_size=3,
    ),
    hash_alg=st.sampled_from(["sha512", "sha256"]),
    namespace=st.sampled_from(["file", "n", "n" * 105]),  # "n": the fixed part ends a line
)
def test_ed25519_fast_path_reads_armor_no_looser_than_the_full_path(
    edits: list[tuple[str, int, str]], hash_alg: str, namespace: str
) -> None:
    armored = sign(MESSAGE, private_key("ed25519"), namespace, hash_alg)
    for op, where, char in edits:
        at = where % (len(armored) + 1)
        if op == "replace":
            armored = armored[:at] + char + armored[at + 1 :]
        elif op == "insert":
            armored = armored[:at] + char + armored[at:]
        else:
            armored = armored[:at] + armored[at + 1 :]
    allowed = [public("ed25519")]
    fast = _verify_ed25519(armored, MESSAGE, namespace, allowed)
    if fast is not None:
        assert _verify_full(armored, MESSAGE, namespace, allowed) is fast


@pytest.mark.parametrize("namespace", ["file", "n", "n" * 105])
def test_ed25519_fast_path_refuses_an_empty_line_anywhere(namespace: str) -> None:
    armored = sign(MESSAGE, private_key("ed25519"), namespace)
    allowed = [public("ed25519")]
    breaks = [i for i, c in enumerate(armored) if c == "\n"]
    for at in breaks[:-1]:  # doubling the last one leaves an empty line after the armor
        doubled = armored[:at] + "\n" + armored[at:]
        assert _verify_ed25519(doubled, MESSAGE, namespace, allowed) is None, at
        with pytest.raises(SignatureError, match="empty line"):
            _verify_full(doubled, MESSAGE, namespace, allowed)
