"""The patterns names, labels, digests and times must match, and how to say them in words.

Kept apart from the models (no pydantic here): parsing a path needs the name pattern, and
commands that only read caches should not pay for importing the models.
"""

from __future__ import annotations

# pattern -> what a value must look like, in words, for findings (a regex says it badly)
PATTERN_HINTS: dict[str, str] = {}


def described(pattern: str, hint: str) -> str:
    """Register the words for ``pattern`` and return it, for use inside StringConstraints."""
    PATTERN_HINTS[pattern] = hint
    return pattern


# Bounded repetitions such as {0,61} are unrolled by pydantic-core's regex compiler, which cost
# milliseconds per field on every model build (a hook builds most models): lengths are bounded
# with max_length instead, and the patterns repeat without bounds.
NAME_MAX = 63
NAME_PATTERN = r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"
SEMVER_PATTERN = (
    r"^(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
IDENTITY_PATTERN = r"^[a-z][a-z0-9-]*:\S+$"
IDENTITY_MAX = 256
TIME_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})$"
)
VERSION_REF_PATTERN = (
    r"^(?:(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)/)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?@"
    + SEMVER_PATTERN[1:]
)

described(NAME_PATTERN, "a name: lowercase ASCII letters, digits and '-', at most 63 characters")
described(SEMVER_PATTERN, "a SemVer label such as 1.2.0")
described(IDENTITY_PATTERN, "an identity SCHEME:ID such as github:alice")
described(DIGEST_PATTERN, "'sha256:' followed by 64 lowercase hex digits")
described(TIME_PATTERN, "an RFC 3339 time with a zone, such as 2026-02-01T10:00:00Z")
described(VERSION_REF_PATTERN, "a version reference TEMPLATE@LABEL, such as support@1.2.0")
