"""Numbers are JSON numbers end to end: out of range is a finding, in range compiles."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit.crypto.ed25519 import public_key_line
from armgit.index.compiler import Compiler
from armgit.index.signed import make_options
from armgit.runtime import TrustRoot, verify_index
from armgit.store.memory import MemoryTree
from tests.unit.helpers import V2, T, example_files

POLICY = f"{T}/policies/support-prod.yaml"
KEY = Ed25519PrivateKey.generate()
ISSUED = datetime(2027, 1, 15, tzinfo=UTC)
OPTIONS = make_options(ISSUED, timedelta(days=7), None, None)


def _with(path: str, pattern: str, new: str) -> dict[str, bytes]:
    files = example_files()
    text, count = re.subn(pattern, new, files[path].decode())
    assert count == 1
    return {**files, path: text.encode()}


@pytest.mark.parametrize(
    ("path", "pattern", "value", "pointer"),
    [
        (POLICY, r"monthlyCost: \d+", "monthlyCost: 1e400", "/costLimits/monthlyCost"),
        (POLICY, r"monthlyCost: \d+", "monthlyCost: .inf", "/costLimits/monthlyCost"),
        (POLICY, r"monthlyCost: \d+", "monthlyCost: -.inf", "/costLimits/monthlyCost"),
        (POLICY, r"monthlyCost: \d+", "monthlyCost: .nan", "/costLimits/monthlyCost"),
        (POLICY, r"dailyTokens: \d+", "dailyTokens: " + "9" * 4301, "/costLimits/dailyTokens"),
        (V2, r"temperature: [\d.]+", "temperature: 1e400", "/genome/modelConfig/temperature"),
        (f"{T}/tenant.yaml", r"region: \S+", "region: -1E999", "/settings/region"),
    ],
)
def test_compile_refuses_a_number_json_cannot_hold_with_a_finding(
    path: str, pattern: str, value: str, pointer: str
) -> None:
    # 1e400 used to pass the schema (as inf) and break `armgit compile`
    compiled = Compiler(MemoryTree(_with(path, pattern, value))).compile([KEY], OPTIONS)
    assert compiled.envelope is None
    ((finding),) = compiled.findings
    assert (finding.rule, finding.path, finding.pointer) == ("non-finite-number", path, pointer)


def test_the_largest_costs_compile_and_verify() -> None:
    # an integral float beyond 2^53 (1.7e308) was turned into an integer that RFC 8785 cannot
    # encode, and compile raised CanonicalizationError
    files = example_files()
    for path in [p for p in files if "/policies/" in p]:
        text = re.sub(r"monthlyCost: \d+", "monthlyCost: 1.7e308", files[path].decode())
        text = re.sub(r"dailyTokens: \d+", "dailyTokens: 9007199254740991", text)
        files[path] = text.encode()
    compiled = Compiler(MemoryTree(files)).compile([KEY], OPTIONS)
    assert compiled.findings == []
    assert compiled.envelope is not None
    trust = TrustRoot.from_public_keys([public_key_line(KEY.public_key())])
    index = verify_index(compiled.envelope, trust, now=ISSUED.timestamp() + 60)
    resolved = index.resolve("arm-dev", "prod", "customer-support")
    assert resolved.policy["costLimits"] == {
        "dailyTokens": 9007199254740991,
        "monthlyCost": 1.7e308,
    }
