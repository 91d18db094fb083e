"""Paths to identities, and CLI references."""

from __future__ import annotations

import pytest

from armgit.core.layout import (
    EntityId,
    PathProblem,
    deployment_id,
    git_refuses,
    identify,
    named_id,
    parse_ref,
    template_id,
    tenant_id,
    version_id,
)

PATHS: list[tuple[str, EntityId | str | None]] = [
    ("armgit.yaml", EntityId("Registry")),
    ("README.md", None),
    (".github/workflows/ci.yml", None),
    ("tenants/acme/tenant.yaml", tenant_id("acme")),
    ("tenants/acme/environments/prod.yaml", named_id("Environment", "acme", "prod")),
    ("tenants/acme/instances/i-1.yaml", named_id("Instance", "acme", "i-1")),
    ("tenants/acme/templates/bot/template.yaml", template_id("acme", "bot")),
    (
        "tenants/acme/templates/bot/versions/1.2.0-rc.1.yaml",
        version_id("acme", "bot", "1.2.0-rc.1"),
    ),
    ("tenants/acme/templates/bot/prompts/main.md", None),
    ("tenants/acme/deployments/prod/bot.yaml", deployment_id("acme", "prod", "bot")),
    ("tenants/acme/environments/.gitkeep", None),
    ("tenants/Acme/tenant.yaml", "invalid-name"),
    ("tenants/acme/instances/supp\u043ert.yaml", "invalid-name"),
    ("tenants/acme/instances/a_b.yaml", "invalid-name"),
    ("tenants/acme/templates/bot/versions/v1.yaml", "invalid-name"),
    ("tenants/acme/templates/bot/versions/1.0.yaml", "invalid-name"),
    ("tenants/acme\n/tenant.yaml", "invalid-name"),  # "$" matched before a final newline
    ("tenants/acme/environments/prod\n.yaml", "invalid-name"),
    ("tenants/acme/templates/bot/versions/1.0.0\n.yaml", "invalid-name"),
    (f"tenants/{'a' * 63}/tenant.yaml", EntityId("Tenant", "a" * 63)),
    (f"tenants/{'a' * 64}/tenant.yaml", "invalid-name"),
    ("tenants/acme/instances/i-1.yml", "unexpected-file"),
    ("tenants/acme/instances/x/i-1.yaml", "unexpected-file"),
    ("tenants/acme/notes.txt", "unexpected-file"),
    ("tenants/readme.md", "unexpected-file"),
    ("tenants/acme/templates/bot/versions/old/1.0.0.yaml", "unexpected-file"),
    ("tenants/acme/deployments/prod.yaml", "unexpected-file"),
]


@pytest.mark.parametrize(("path", "expected"), PATHS)
def test_identify(path: str, expected: EntityId | str | None) -> None:
    result = identify(path)
    if isinstance(expected, str):
        assert isinstance(result, PathProblem)
        assert result.rule == expected
    else:
        assert result == expected


@pytest.mark.parametrize("path", [p for p, e in PATHS if isinstance(e, EntityId)])
def test_identity_round_trips_through_its_path(path: str) -> None:
    ident = identify(path)
    assert isinstance(ident, EntityId)
    assert ident.path == path
    assert parse_ref(ident.ref) == ident


@pytest.mark.parametrize(
    "ref",
    [
        "",
        "a/",
        "Acme",
        "acme/bot@1.0",
        "acme/bot@",
        "acme/thing/x",
        "a/b/c/d/e",
        "acme/x/y@1.0.0",
    ],
)
def test_bad_references_say_why(ref: str) -> None:
    with pytest.raises(ValueError, match=repr(ref)):
        parse_ref(ref)


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        (".git/config", True),
        (".GIT/config", True),
        (".Git./hooks/x", True),
        ("git~1/config", True),
        ("a/../b", True),
        ("docs/.github/x.yml", False),
        (".gitattributes", False),
        ("tools/git/x", False),
    ],
)
def test_git_refuses_the_paths_git_will_not_check_out(path: str, refused: bool) -> None:
    assert git_refuses(path) is refused
