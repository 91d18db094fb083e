"""Deployments: which version of a template runs in an environment."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from armgit.core.models.base import Document, Label, Model, Name, Text

DeploymentStatus = Literal["PENDING", "ACTIVE", "ROLLING_BACK", "RETIRED"]


class RolloutPolicy(Model):
    """How the new version replaces the old one."""

    strategy: Literal["all-at-once", "canary", "blue-green"] = "all-at-once"
    steps: tuple[Annotated[int, Field(strict=True, ge=1, le=100)], ...] = ()


class Deployment(Document):
    """``tenants/<t>/deployments/<environment>/<template>.yaml``: one file per pair, so a
    template has at most one deployment per environment. A rollback is a change of this file
    back to ``previousVersion`` that names the version it backs out in ``rollbackOf``."""

    kind: Literal["Deployment"]
    template: Name
    environment: Name
    tenant: Name | None = None
    version: Label
    previous_version: Label | None = None
    status: DeploymentStatus = "PENDING"
    # a default built without validation: importing the models builds no validator
    rollout_policy: RolloutPolicy = RolloutPolicy.model_construct()
    requested_by: Name | None = None
    rollback_of: Label | None = None
    reason: Text | None = None
