"""A moment a user names on the command line: an RFC 3339 time or a date (pure, light)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def parse_moment(text: str, *, end_of_day: bool = False) -> datetime | None:
    """An RFC 3339 time (a time without a zone is UTC) or a date ``YYYY-MM-DD`` (midnight UTC
    starting it, or with ``end_of_day`` the last second of it); ``None`` if ``text`` is neither."""
    text = text.strip()
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    date_only = len(text) == 10
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if date_only and end_of_day:
        when += timedelta(days=1, seconds=-1)
    return when
