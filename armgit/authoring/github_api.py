"""The GitHub REST API, read to check a review at its source before it is attested. I/O.

Three requests, with the workflow's ``GITHUB_TOKEN`` (read access to pull requests and the
repository's metadata is enough): the pull request, the review, and the reviewer's permission on
the repository. ``GITHUB_API_URL`` (GitHub Enterprise, or a test's loopback server) and
``GITHUB_REPOSITORY`` come from the runner's environment, never from the event. Standard
library only (``urllib``): the attesting job installs armgit from pinned hashes, and every
dependency is one more thing to pin.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

from armgit.authoring.github_review import (
    SourcePull,
    SourceReview,
    parse_permission,
    parse_source_pull,
    parse_source_review,
)
from armgit.errors import UsageError

DEFAULT_API_URL = "https://api.github.com"
TIMEOUT_SECONDS = 20.0
_MAX_BYTES = 1 << 20


class ApiError(UsageError):
    """The API could not be asked, or refused to answer (exit code 2)."""


class NotFound(ApiError):
    """The API has no such pull request, review or collaborator."""


@dataclass(frozen=True, slots=True)
class GitHubApi:
    """One repository's pull requests, read through the REST API."""

    url: str
    token: str
    repository: str  # owner/name

    def pull(self, number: int) -> SourcePull:
        return parse_source_pull(self._get(f"pulls/{number}"))

    def review(self, number: int, review_id: str) -> SourceReview:
        return parse_source_review(
            self._get(f"pulls/{number}/reviews/{urllib.parse.quote(review_id, safe='')}")
        )

    def permission(self, login: str) -> str:
        """The reviewer's role on the repository: admin, maintain, write, triage, read, none."""
        return parse_permission(
            self._get(f"collaborators/{urllib.parse.quote(login, safe='')}/permission")
        )

    def _get(self, path: str) -> bytes:
        owner, _, name = self.repository.partition("/")
        where = f"/repos/{urllib.parse.quote(owner, safe='')}/{urllib.parse.quote(name, safe='')}"
        url = f"{self.url.rstrip('/')}{where}/{path}"
        request = urllib.request.Request(
            url,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self.token}",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "armgit",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                data: bytes = response.read(_MAX_BYTES + 1)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 404:
                raise NotFound(f"GET {url}: 404 Not Found") from exc
            raise ApiError(f"GET {url}: {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise ApiError(f"GET {url}: {reason}") from exc
        if len(data) > _MAX_BYTES:
            raise ApiError(f"GET {url}: the answer is larger than {_MAX_BYTES} bytes")
        return data


def api_from_environment(environ: Mapping[str, str] | None = None) -> GitHubApi:
    """The API of the repository the workflow runs in: ``GITHUB_API_URL`` (default
    api.github.com), ``GITHUB_TOKEN`` and ``GITHUB_REPOSITORY``, as GitHub Actions sets them."""
    env = os.environ if environ is None else environ
    token = env.get("GITHUB_TOKEN", "")
    repository = env.get("GITHUB_REPOSITORY", "")
    if not token:
        raise UsageError(
            "GITHUB_TOKEN is not set: an attested review is checked at its source, the GitHub "
            "API (env: GITHUB_TOKEN: ${{ github.token }} in the workflow)"
        )
    owner, _, name = repository.partition("/")
    if not owner or not name or "/" in name:
        raise UsageError(
            f"GITHUB_REPOSITORY is {repository!r}, not OWNER/NAME: it names the repository "
            "whose pull request is attested (GitHub Actions sets it)"
        )
    url = env.get("GITHUB_API_URL") or DEFAULT_API_URL
    parts = urllib.parse.urlsplit(url)
    loopback = parts.scheme == "http" and parts.hostname in _LOOPBACK
    if not (parts.scheme == "https" or loopback) or not parts.hostname:
        raise UsageError(
            f"GITHUB_API_URL {url!r}: the API is reached over https (plain http only on "
            "the loopback interface)"
        )
    return GitHubApi(url, token, repository)


_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
