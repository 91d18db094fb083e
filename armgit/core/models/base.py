"""Shared building blocks of the registry models: the base class and constrained scalar types.

Field names are camelCase in files (the contract with editors and other-language tools) and
snake_case in Python; scalars are strict, so ``"5"`` is not an integer and ``yes`` not a bool.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

API_VERSION = "armgit/v1"

NAME_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
SEMVER_PATTERN = (
    r"^(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
TIME_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})$"
)
VERSION_REF_PATTERN = (
    r"^(?:(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)/)?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?@"
    + SEMVER_PATTERN[1:]
)

Text = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=4096)]
Name = Annotated[str, StringConstraints(strict=True, pattern=NAME_PATTERN)]
Label = Annotated[str, StringConstraints(strict=True, pattern=SEMVER_PATTERN, max_length=128)]
Digest = Annotated[str, StringConstraints(strict=True, pattern=DIGEST_PATTERN)]
Timestamp = Annotated[str, StringConstraints(strict=True, pattern=TIME_PATTERN)]
Duration = Annotated[str, StringConstraints(strict=True, pattern=r"^[1-9][0-9]{0,5}[smhd]$")]
Email = Annotated[
    str, StringConstraints(strict=True, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
]
Url = Annotated[str, StringConstraints(strict=True, pattern=r"^https?://\S+$", max_length=2048)]
Tag = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z0-9][a-z0-9._:/-]{0,62}$")]
Count = Annotated[int, Field(strict=True, ge=0)]
Bool = Annotated[bool, Field(strict=True)]

Lifecycle = Literal["DRAFT", "TESTING", "CANDIDATE", "APPROVED", "DEPRECATED", "RETIRED"]
Risk = Literal["low", "medium", "high", "critical"]
RequestType = Literal[
    "VERSION_PROMOTION",
    "DEPLOYMENT_ACTIVATION",
    "INSTANCE_REACTIVATION",
    "POLICY_AUTONOMY_INCREASE",
    "PRIVILEGE_WIDENING",
]


class Model(BaseModel):
    """Base of every registry model: immutable, closed to unknown fields, camelCase on disk."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
        hide_input_in_errors=True,
        defer_build=True,
    )


class Document(Model):
    """A whole registry file: ``apiVersion`` plus a ``kind`` fixed by each subclass."""

    api_version: Literal["armgit/v1"]
