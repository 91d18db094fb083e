"""Bad input pushed to a hooked server: a one-line finding with its rule, the server unchanged.

The cases are those a fuzzing pass found (issue 16), which gave an internal error or passed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_push_rules import OPS, Server, T

POLICY = f"{T}/policies/support-prod.yaml"


@pytest.fixture
def server(tmp_path: Path) -> Server:
    return Server(tmp_path)


@pytest.mark.parametrize(
    ("path", "old", "new", "rule"),
    [
        (f"{T}/tenant.yaml", "slug:", "a[: 1\nslug:", "schema"),
        (f"{T}/tenant.yaml", "slug: arm-dev", "slug: &s arm-dev\nb: *s", "yaml"),
        (POLICY, "monthlyCost: 1500", "monthlyCost: 1e400", "non-finite-number"),
        (POLICY, "dailyTokens: 1000000", "dailyTokens: " + "9" * 4301, "non-finite-number"),
    ],
    ids=["key like pydantic's own", "scalar alias", "1e400", "4301 digits"],
)
def test_bad_input_is_refused_with_its_rule(
    server: Server, path: str, old: str, new: str, rule: str
) -> None:
    server.edit(path, old, new)
    stderr = server.refused(OPS, rule)
    assert "internal error" not in stderr
