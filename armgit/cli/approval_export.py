"""``armgit approve --export-statement``: an approval's signed bytes, as files OpenSSH reads."""

from __future__ import annotations

from pathlib import Path

import click

from armgit.authoring.approval_export import NAMESPACE, export_statement
from armgit.errors import UsageError
from armgit.store.atomic import write_atomic


def write_statement(approval: Path, out_dir: Path) -> None:
    """Write ``<stem>.json`` and ``<stem>.json.sig`` into ``out_dir``; say how to verify them."""
    try:
        data = approval.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {approval}: {exc.strerror or exc}") from exc
    exported = export_statement(data, str(approval))
    message = out_dir / f"{approval.stem}.json"
    write_atomic(message, exported.message)
    write_atomic(message.with_name(message.name + ".sig"), exported.signature)
    who = exported.approver
    click.echo(f"wrote {message.name} (the signed message) and {message.name}.sig")
    click.echo(f"verify with OpenSSH, given {exported.tenant}/{who}'s public key (sshKeys):")
    click.echo(f'  echo "{who} $(cat {who}.pub)" > allowed_signers')
    click.echo(
        f"  ssh-keygen -Y verify -f allowed_signers -I {who} -n {NAMESPACE} "
        f"-s {message.name}.sig < {message.name}"
    )
