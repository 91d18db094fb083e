"""What the runtime raises: a few classes under :class:`armgit.errors.ArmgitError`."""

from __future__ import annotations

from armgit.errors import ArmgitError


class IndexRefused(ArmgitError):
    """An index (or trust root) failed verification. ``reason`` is a stable kebab-case code:

    ``too-large``, ``malformed-envelope``, ``wrong-payload-type``, ``duplicate-key``,
    ``signature-threshold``, ``malformed-payload``, ``expired``, ``rollback``, ``wrong-scope``,
    ``genome-hash-mismatch``, ``policy-digest-mismatch``, ``timestamp-mismatch``; for roots also
    ``root-version``.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"index refused ({reason}): {message}")
        self.reason = reason
        self.detail = message


class IndexUnavailable(ArmgitError):
    """No usable index: none loaded yet, the source could not be read, or the last good index
    expired (the runtime then fails closed)."""


class NotFound(ArmgitError, LookupError):
    """The index has no such tenant, environment, template or instance."""
