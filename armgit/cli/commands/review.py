"""``armgit review``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from armgit.cli.options import format_option, repo_option


@click.command(name="review")
@click.argument("range_", metavar="BASE..HEAD")
@click.option(
    "--author",
    metavar="IDENTITY",
    help="Who makes the change (e.g. github:alice): their own approvals do not count, they are "
    "not offered as approvers, and their permissions are checked. Default: the authors of the "
    "range's commits (by email), for four eyes only.",
)
@repo_option
@format_option("text", "json")
def command(range_: str, author: str | None, repo: str | None, fmt: str) -> None:
    """The reviewer's view of a range of commits: each change as meaning, not YAML.

    For every commit: versions created (with the genome diff against the parent version: model,
    sampling, prompt, tools and permissions added or removed), lifecycle transitions,
    evaluations, instance state changes, policy changes with the risk they add (tier, tools,
    risk overrides, limits, data scopes), deployments old -> new and rollbacks, approvals added.
    Then, for each gated change: the approvals that count, those that do not and why, how many
    are missing and who may give them.

    Without --author, the authors of the range's commits stand for who makes the change: their
    approvals are shown as not counting (commit authors are not authenticated, so permissions
    are not checked; CI passes the pull request's author).

    Informational: exit code 0 whatever it finds (armgit check is the gate), 2 if the range
    cannot be read. A lone REV means REV..HEAD.

    \b
    Example:
      armgit review origin/main..HEAD --author github:alice-chen
    """
    from armgit.authoring.review import review_range
    from armgit.core.rules.access import actor_from_identity
    from armgit.store.tree import open_repository, registry_prefix, resolve_commit

    base, sep, head = range_.partition("..")
    if head.startswith("."):
        raise click.UsageError(f"{range_}: write BASE..HEAD (two dots)")
    head = head if sep and head else "HEAD"
    if not base:
        raise click.UsageError(f"{range_}: write BASE..HEAD")
    root = Path(repo or ".").absolute()
    repository = open_repository(root)
    prefix = registry_prefix(repository, root)
    base_id = str(resolve_commit(repository, base).id)
    head_id = str(resolve_commit(repository, head).id)
    try:
        actor = actor_from_identity(author) if author else None
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    authors = None
    if actor is None:  # four eyes by the commits' authors: not authenticated, so no permissions
        from armgit.cli.self_approval import CommitAuthors

        authors = CommitAuthors.of_range(repository, base_id, head_id, prefix)
        actor = authors.actor
    review = review_range(
        repository,
        base_id,
        head_id,
        prefix=prefix,
        actor=actor,
        now=datetime.now(UTC),
        access=author is not None,
    )
    from armgit.cli.review_output import emit_review_json, emit_review_text

    if fmt == "json":
        emit_review_json(review, f"{base}..{head}", authors)
    else:
        emit_review_text(review, f"{base}..{head}", authors)
