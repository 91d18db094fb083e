"""Shared building blocks of the registry models: the base class and constrained scalar types.

Field names are camelCase in files (the contract with editors and other-language tools) and
snake_case in Python; scalars are strict, so ``"5"`` is not an integer and ``yes`` not a bool.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints
from pydantic.alias_generators import to_camel

from armgit.core.patterns import (
    DIGEST_PATTERN,
    NAME_MAX,
    NAME_PATTERN,
    SEMVER_PATTERN,
    TIME_PATTERN,
    described,
)

API_VERSION = "armgit/v1"

Text = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=4096)]
Name = Annotated[str, StringConstraints(strict=True, pattern=NAME_PATTERN, max_length=NAME_MAX)]
Label = Annotated[str, StringConstraints(strict=True, pattern=SEMVER_PATTERN, max_length=128)]
Digest = Annotated[str, StringConstraints(strict=True, pattern=DIGEST_PATTERN)]
Timestamp = Annotated[str, StringConstraints(strict=True, pattern=TIME_PATTERN)]
Duration = Annotated[
    str,
    StringConstraints(
        strict=True, pattern=described(r"^[1-9][0-9]{0,5}[smhd]$", "a duration such as 48h or 7d")
    ),
]
Email = Annotated[
    str,
    StringConstraints(
        strict=True,
        pattern=described(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", "an email address"),
        max_length=254,
    ),
]
Url = Annotated[
    str,
    StringConstraints(
        strict=True, pattern=described(r"^https?://\S+$", "an http(s) URL"), max_length=2048
    ),
]
Tag = Annotated[
    str,
    StringConstraints(
        strict=True,
        pattern=described(
            r"^[a-z0-9][a-z0-9._:/-]{0,62}$", "a tag: lowercase letters, digits and ._:/-"
        ),
    ),
]
Count = Annotated[int, Field(strict=True, ge=0)]
PositiveCount = Annotated[int, Field(strict=True, ge=1)]
Bool = Annotated[bool, Field(strict=True)]

Lifecycle = Literal["DRAFT", "TESTING", "CANDIDATE", "APPROVED", "DEPRECATED", "RETIRED"]
Risk = Literal["low", "medium", "high", "critical"]
RequestType = Literal[
    "VERSION_PROMOTION",
    "DEPLOYMENT_ACTIVATION",
    "INSTANCE_REACTIVATION",
    "POLICY_AUTONOMY_INCREASE",
    "PRIVILEGE_WIDENING",
    "REGISTRY_TRUST_CHANGE",
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
        allow_inf_nan=False,  # numbers are finite everywhere (the YAML reader refuses them first)
        defer_build=True,
    )


class Document(Model):
    """A whole registry file: ``apiVersion`` plus a ``kind`` fixed by each subclass."""

    api_version: Literal["armgit/v1"]
    # what an import (``armgit import``) kept from the system it came from, with no place of its
    # own here: the legacy ids, genome and hash verdict, unsigned approval evidence. It never
    # counts toward a rule (an approval in it is evidence, not a signature).
    legacy: dict[str, JsonValue] | None = None
