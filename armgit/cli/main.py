"""The ``armgit`` command. Subcommands are imported only when run, so start-up stays lean."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from armgit import __version__

# name -> (module under armgit.cli.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("demo", "Show the whole loop on the bundled example, with real parts."),
    "init": ("init", "Create a new registry repository, ready to use."),
    "validate": ("validate", "Check every state rule at one commit or in the work tree."),
    "hash": ("hash", "Print the genome hash (sha256:<hex>) of a version file."),
    "ls": ("ls", "List templates, versions, instances, policies, deployments, ..."),
    "show": ("show", "Show one entity; versions with their integrity (VERIFIED/TAMPERED)."),
    "lineage": ("lineage", "Print a version's lineage back to its root."),
    "new": ("new", "Scaffold a tenant, environment, ..., template, version or instance."),
    "promote": ("promote", "Move a version one legal lifecycle step (records evaluations)."),
    "deploy": ("deploy", "Make a version the active deployment in an environment."),
    "rollback": ("rollback", "Return a deployment to its previous version."),
    "retire": ("retire", "Retire a deprecated version or an instance."),
    "instance": ("instance", "Pause, quarantine, drain or reactivate an instance."),
    "check": ("check", "Check every change rule between two commits (CI on pull requests)."),
    "diff": ("diff", "Two versions or two environments side by side, as meaning."),
    "review": ("review", "A change as meaning: transitions, genome diffs, risk, approvals."),
    "approve": ("approve", "Sign an approval of a gated change (or attest a platform review)."),
    "hooks": ("hooks", "Install the server (pre-receive) or client (pre-commit) hook."),
    "hook": ("hook", "Run a git hook (what the installed hooks call)."),
    "compile": ("compile", "Compile the registry at one commit into a signed index."),
    "index": (
        "index",
        "Verify a signed index, resolve and evaluate; its freshness (status); the trust root.",
    ),
    "actions": ("actions", "Approve or reject one tool call at runtime; list what waits."),
    "decisions": ("decisions", "Check and query a runtime's hash-chained decision log."),
    "audit": (
        "audit",
        "Typed change records from history: who changed what, when.",
    ),
    "verify": ("verify", "Replay every rule over the whole history; recompute every genome hash."),
    "import": ("import_", "Import ARM and Mission Control exports, with history, onto a branch."),
    "site": ("site", "Write the static web view: directory, versions, deployments, audit."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(f"armgit.cli.commands.{entry[0]}")
        command: click.Command = module.command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, text) for name, (_, text) in COMMANDS.items()])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="armgit")
@click.option("--debug", is_flag=True, help="Show a traceback when armgit itself fails.")
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colors in the output: auto means on a terminal, unless NO_COLOR is set (no-color.org).",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, color: str) -> None:
    """armgit: the system of record for fleets of AI agents, kept in a Git repository.

    Agent templates, their immutable versions, instances, policies, deployments, operators and
    approvals are YAML files; commits are the audit trail. Exit codes: 0 ok, 1 findings or
    refused, 2 usage or environment error.

    \b
    Start with:
      armgit validate --repo registry-example     check a registry
      armgit ls versions --repo registry-example  see what is in it
    """
    from armgit.cli.color import use_color

    ctx.color = use_color(color)
    ctx.obj = {"debug": debug}


def main(argv: list[str] | None = None) -> Any:
    """Entry point: runs the CLI and turns armgit's own errors into messages and exit codes."""
    from armgit.errors import ArmgitError

    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        return cli.main(args=argv, prog_name="armgit", standalone_mode=True)
    except ArmgitError as exc:
        if debug:
            raise
        click.echo(f"armgit: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("armgit: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        click.echo(
            f"armgit: internal error ({type(exc).__name__}: {exc}); "
            "rerun with --debug for a traceback and report it",
            err=True,
        )
        sys.exit(2)
