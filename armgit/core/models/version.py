"""Versions: immutable builds of a template, identified by their genome hash."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from armgit.core.models.base import (
    Digest,
    Document,
    Label,
    Lifecycle,
    Model,
    Name,
    Risk,
    Text,
    Timestamp,
    Url,
)
from armgit.core.models.policy import ToolId
from armgit.core.patterns import SEMVER_PATTERN, described

ParentRef = Annotated[
    str,
    StringConstraints(
        strict=True,
        pattern=described(
            r"^(?:(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?/)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?@)?"
            + SEMVER_PATTERN[1:],
            "a parent version: LABEL, or TEMPLATE@LABEL for another template",
        ),
        max_length=256,
    ),
]
ToolPermission = Annotated[
    str,
    StringConstraints(
        strict=True,
        pattern=described(r"^[A-Za-z0-9_.:/*-]{1,128}$", "a permission such as zendesk:read"),
    ),
]
EvaluationStatus = Literal["NOT_RUN", "RUNNING", "PASS", "FAIL"]


class ModelConfig(Model):
    """The model an agent runs on; provider-specific parameters are welcome as extra keys."""

    model_config = ConfigDict(extra="allow")

    provider: Text
    model_id: Text
    temperature: Annotated[float, Field(strict=True, ge=0, le=2)] | None = None
    max_tokens: Annotated[int, Field(strict=True, gt=0)] | None = None


class Tool(Model):
    """One tool the agent may call, with the permissions it needs and its declared risk."""

    tool_id: ToolId
    schema_version: Text
    required_permissions: tuple[ToolPermission, ...] = ()
    risk: Risk
    description: Text | None = None


class Provenance(Model):
    """Where a genome came from."""

    created_by: Text
    source: Text
    created_at: Timestamp
    commit_ref: Text | None = None
    build_pipeline: Text | None = None


class Genome(Model):
    """A version's DNA. Its hash (SPEC section 3) is computed over the genome as written."""

    model_config_: ModelConfig = Field(alias="modelConfig")
    prompt_bundle_hash: Digest
    tool_manifest: tuple[Tool, ...] | None = None
    tool_manifest_hash: Digest | None = None
    provenance: Provenance

    @model_validator(mode="after")
    def _one_manifest(self) -> Genome:
        if (self.tool_manifest is None) == (self.tool_manifest_hash is None):
            raise ValueError("give exactly one of toolManifest and toolManifestHash")
        if self.tool_manifest is not None:
            ids = [tool.tool_id for tool in self.tool_manifest]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise ValueError(f"tool ids listed twice: {', '.join(duplicates)}")
        return self


class Evaluation(Model):
    """The latest evaluation of a version; ``PASS`` is required to become a CANDIDATE."""

    status: EvaluationStatus = "NOT_RUN"
    suite: Text | None = None
    report_digest: Digest | None = None
    report_uri: Url | None = None
    evaluated_at: Timestamp | None = None


RelativePath = Annotated[
    str,
    StringConstraints(
        strict=True,
        pattern=described(r"^[A-Za-z0-9._/-]{1,512}$", "a relative path such as prompts/v2.md"),
    ),
]


class Artifacts(Model):
    """Registry files, relative to the template's directory, whose hashes the genome holds."""

    prompt_bundle: RelativePath | None = None
    tool_manifest: RelativePath | None = None

    @field_validator("prompt_bundle", "tool_manifest")
    @classmethod
    def _inside(cls, value: str | None) -> str | None:
        if value is not None and (value.startswith("/") or ".." in value.split("/")):
            raise ValueError("must be a relative path inside the template directory")
        return value


class Version(Document):
    """``tenants/<t>/templates/<template>/versions/<label>.yaml``.

    ``genome`` and ``genomeHash`` are write-once. ``parent`` is a label of the same template, or
    ``template@label`` for lineage across templates of the same tenant.
    """

    kind: Literal["Version"]
    template: Name
    label: Label
    tenant: Name | None = None
    parent: ParentRef | None = None
    lifecycle: Lifecycle = "DRAFT"
    # a default built without validation: importing the models builds no validator
    evaluation: Evaluation = Evaluation.model_construct()
    policy: Name | None = None
    description: Text | None = None
    artifacts: Artifacts | None = None
    genome: Genome
    genome_hash: Digest
