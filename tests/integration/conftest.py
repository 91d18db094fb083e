"""Fixtures for the approval tests: one registry with keys and a hooked server, built once
per session and copied for every test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.approval_helpers import Setup, build_registry, copy_registry

Registry = Callable[..., Setup]


@pytest.fixture(scope="session")
def _registry_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, Setup]:
    return {}


@pytest.fixture
def keyed_registry(
    _registry_templates: dict[bool, Setup], tmp_path_factory: pytest.TempPathFactory
) -> Registry:
    """``keyed_registry(tmp_path, attestor=False)``: a copy of the built registry in tmp_path."""

    def make(tmp_path: Path, *, attestor: bool = False) -> Setup:
        template = _registry_templates.get(attestor)
        if template is None:
            template = build_registry(tmp_path_factory.mktemp("template"), attestor=attestor)
            _registry_templates[attestor] = template
        return copy_registry(template, tmp_path)

    return make


@pytest.fixture(scope="session")
def adversary_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The adversary's registry (tests/adversary.py), built once: copy it with World.copy_of."""
    from tests.adversary import build_world_template

    return build_world_template(tmp_path_factory.mktemp("adversary"))
