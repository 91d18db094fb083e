"""docs/rules.md documents exactly the rule ids the code uses."""

from __future__ import annotations

import re
from pathlib import Path

from armgit.core.findings import RULES

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_every_rule_is_documented_and_only_those() -> None:
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", DOC.read_text(), flags=re.MULTILINE))
    assert documented == set(RULES)
