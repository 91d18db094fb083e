"""The program's own failures. A user's bad data is reported as findings, never raised."""

from __future__ import annotations


class ArmgitError(Exception):
    """Root of every exception armgit raises on purpose."""


class UsageError(ArmgitError):
    """The caller asked for something that cannot be done as asked (exit code 2)."""


class StoreError(ArmgitError):
    """The repository or work tree could not be read (not a repository, unknown revision, ...)."""


class RefError(UsageError):
    """An entity reference on the command line is malformed or names nothing."""
