"""SemVer precedence for the site's sort (semver.org, section 11)."""

from __future__ import annotations

import pytest

from armgit.site.semver import semver_key

# each list is in ascending precedence
ORDERS = [
    ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
     "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"],
    ["1.9.0", "1.10.0", "1.11.0", "2.0.0", "10.0.0"],
    ["0.0.9", "0.1.0", "0.1.1"],
]  # fmt: skip


@pytest.mark.parametrize("order", ORDERS)
def test_precedence(order: list[str]) -> None:
    assert sorted(order, key=semver_key) == order
    assert sorted(reversed(order), key=semver_key) == order


def test_build_metadata_is_ignored() -> None:
    assert semver_key("1.0.0+build.5") == semver_key("1.0.0")
