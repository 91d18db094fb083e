"""``armgit init``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import click

from armgit.authoring.scaffold import InitOptions, registry_files
from armgit.schemagen import render


def _git_config(key: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", "config", "--get", key], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return result.stdout.strip() or None


@click.command(name="init")
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", "registry", help="The registry's id (default: the directory's name).")
@click.option("--tenant", default="default", show_default=True, help="The first tenant's slug.")
@click.option("--tenant-name", help="The first tenant's display name (default: its slug).")
@click.option("--admin", help="The first operator, holding the admin role (default: from git).")
@click.option("--admin-email", help="The admin's email (default: git config user.email).")
@click.option(
    "--identity",
    "identities",
    multiple=True,
    help="An identity of the admin, e.g. github:alice (repeatable).",
)
@click.option(
    "--ssh-key",
    "ssh_keys",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A public key file of the admin, for approvals (repeatable).",
)
@click.option(
    "--index-key",
    "index_keys",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The public key file (.pub, from ssh-keygen -t ed25519) of a key that will sign the "
    "index: listed under indexSigners (repeatable).",
)
def command(
    directory: Path,
    registry: str | None,
    tenant: str,
    tenant_name: str | None,
    admin: str | None,
    admin_email: str | None,
    identities: tuple[str, ...],
    ssh_keys: tuple[Path, ...],
    index_keys: tuple[Path, ...],
) -> None:
    """Create a new registry repository in DIRECTORY (new or empty), committed on main.

    It holds armgit.yaml (approval rules with the seed's defaults), a first tenant with the
    environments dev, staging and prod (prod protected), the roles admin, engineer and reviewer,
    the first operator holding admin, indexSigners from --index-key, and schemas/ for editors.
    Next: `armgit hooks install` on the server repository.

    \b
    Example:
      armgit init agents --tenant acme --tenant-name "Acme Corp" --admin alice \\
          --admin-email alice@acme.example --identity github:alice
    """
    directory = directory.absolute()
    email = admin_email or _git_config("user.email")
    if not email:
        raise click.UsageError("give --admin-email (git config user.email is not set)")
    admin_name = admin or _slug(email.split("@")[0])
    options = InitOptions(
        registry=registry or _slug(directory.name),
        tenant=tenant,
        tenant_name=tenant_name or tenant,
        admin=admin_name,
        admin_email=email,
        admin_identities=identities or (f"email:{email}",),
        admin_ssh_keys=tuple(p.read_text().strip() for p in ssh_keys),
        index_keys=tuple(p.read_text().strip() for p in index_keys),
    )
    try:
        files = registry_files(options)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    from armgit.core.schemas import all_schemas
    from armgit.store.writer import init_repository

    files.update({f"schemas/{name}": render(s) for name, s in all_schemas().items()})
    commit = init_repository(
        directory,
        files,
        f"armgit init: registry {options.registry}, tenant {tenant}",
        (admin_name, email),
    )
    click.echo(f"created registry {options.registry} in {directory} (commit {commit[:12]})")
    click.echo(f"  tenant {tenant}: environments dev, staging, prod; admin operator {admin_name}")
    click.echo(f"next: armgit validate --repo {directory}")
    if index_keys:
        click.echo(
            f"  index: armgit compile --repo {directory} --rev main --key INDEX_KEY --out "
            "index.json --first-publish; runtimes pin the root from: armgit index root "
            f"--repo {directory} --rev main --key INDEX_KEY --out root.json"
        )
    else:
        click.echo(
            "  index: make a signing key (ssh-keygen -t ed25519 -N '' -f index_ed25519) and "
            "list it under indexSigners in armgit.yaml (docs/index.md, Keys)"
        )
    click.echo("then, on the server's bare copy: armgit hooks install --server BARE_REPO; and")
    from armgit.cli.pusher_note import echo_pusher_note

    echo_pusher_note(admin_name)


def _slug(text: str) -> str:
    cleaned = "".join(c if c.isascii() and c.isalnum() else "-" for c in text.lower()).strip("-")
    return cleaned[:63].strip("-") or "registry"
