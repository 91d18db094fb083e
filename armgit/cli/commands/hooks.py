"""``armgit hooks install``."""

from __future__ import annotations

from pathlib import Path

import click


@click.group(name="hooks")
def command() -> None:
    """Install armgit's git hooks."""


@command.command(name="install")
@click.option(
    "--server",
    "server",
    metavar="BARE_REPO",
    type=click.Path(file_okay=False, path_type=Path),
    help="Install the pre-receive hook in this (bare) server repository.",
)
@click.option("--client", is_flag=True, help="Install the pre-commit hook in this clone.")
@click.option("--repo", metavar="PATH", default=".", help="The clone, for --client.")
@click.option(
    "--publish-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --server: after each accepted push to a protected branch, publish the signed "
    "index here (index.json and tenants/<t>/index.json).",
)
@click.option(
    "--signing-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="With --publish-dir: the Ed25519 private key (OpenSSH format) that signs the index.",
)
@click.option(
    "--expires-in", default="7d", show_default=True, help="Lifetime of a published index."
)
@click.option(
    "--site-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --server: after each accepted push to a protected branch, write the static web "
    "view (`armgit site`) here, e.g. beside the index: PUBLISH_DIR/site.",
)
@click.option("--force", is_flag=True, help="Replace a hook armgit did not install.")
def install(
    server: Path | None,
    client: bool,
    repo: str,
    publish_dir: Path | None,
    signing_key: Path | None,
    expires_in: str,
    site_dir: Path | None,
    force: bool,
) -> None:
    """Put the hooks in place: `--server BARE_REPO` installs pre-receive (every push to a
    protected branch is checked; a refused push leaves the server as it was); `--client`
    installs pre-commit in a clone (the same rules on the staged change, before it is pushed).

    \b
    Examples:
      armgit hooks install --server /srv/git/agents.git
      armgit hooks install --server /srv/git/agents.git --publish-dir /srv/www/agents \\
          --signing-key /etc/armgit/index.key --site-dir /srv/www/agents/site
      armgit hooks install --client
    """
    from armgit.enforce.hooks import install_hook
    from armgit.store.tree import open_repository

    if (server is None) == (not client):
        raise click.UsageError("give exactly one of --server BARE_REPO and --client")
    if server is not None:
        repository = open_repository(server)
        if not repository.is_bare:
            raise click.UsageError(f"{server} is not a bare repository (the server's copy)")
        target = install_hook(Path(repository.path) / "hooks", "pre-receive", force=force)
        if (publish_dir is None) != (signing_key is None):
            raise click.UsageError("--publish-dir and --signing-key go together")
        if publish_dir is not None and signing_key is not None:
            config = repository.config
            config["armgit.publishDir"] = str(publish_dir.absolute())
            config["armgit.signingKey"] = str(signing_key.absolute())
            config["armgit.expiresIn"] = expires_in
        if site_dir is not None:
            repository.config["armgit.siteDir"] = str(site_dir.absolute())
        if publish_dir is not None or site_dir is not None:
            posted = install_hook(Path(repository.path) / "hooks", "post-receive", force=force)
            where = [str(p.absolute()) for p in (publish_dir, site_dir) if p is not None]
            click.echo(f"installed {posted} (publishing to {' and '.join(where)})")
    else:
        repository = open_repository(repo)
        target = install_hook(Path(repository.path) / "hooks", "pre-commit", force=force)
    click.echo(f"installed {target}")
    if server is not None:
        from armgit.cli.pusher_note import echo_pusher_note

        echo_pusher_note()
