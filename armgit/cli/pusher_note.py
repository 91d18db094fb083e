"""What ``init`` and ``hooks install --server`` say about the first push: the server must name
the pusher (docs/hooks.md, "Who is pushing"), or a push to a protected branch is refused."""

from __future__ import annotations

import click

from armgit.core.models.registry import DEFAULT_IDENTITY_ENV


def pusher_lines(operator: str = "OPERATOR") -> list[str]:
    """The note, with ``operator`` as the example operator name."""
    return [
        "the server must name the pusher, or every push to a protected branch is refused:",
        "  the hook maps the first set of these (identityEnv in armgit.yaml) to an operator:",
        f"    {', '.join(DEFAULT_IDENTITY_ENV)}",
        "  - GitLab, GitHub Enterprise and Gitea set theirs to the pusher's login: list it in",
        "    the operator's identities (gitlab:LOGIN, github:LOGIN, gitea:LOGIN)",
        f'  - plain SSH: per key in authorized_keys, environment="ARMGIT_PUSHER={operator}"',
        "    (and in sshd_config: PermitUserEnvironment ARMGIT_PUSHER)",
        "  - git http-backend: the web server's authentication sets REMOTE_USER",
        "  see docs/hooks.md, 'Who is pushing'",
    ]


def echo_pusher_note(operator: str = "OPERATOR") -> None:
    for line in pusher_lines(operator):
        click.echo(line)
