"""The files of a new registry (``armgit init``), as text: comments included, nothing written."""

from __future__ import annotations

import json
from dataclasses import dataclass

from armgit.core.layout import is_valid_name


@dataclass(frozen=True, slots=True)
class InitOptions:
    """What ``armgit init`` asks for; names are validated by :func:`registry_files`."""

    registry: str
    tenant: str
    tenant_name: str
    admin: str
    admin_email: str
    admin_identities: tuple[str, ...] = ()
    admin_ssh_keys: tuple[str, ...] = ()
    index_keys: tuple[str, ...] = ()  # OpenSSH public key lines of the index signers


def _q(text: str) -> str:
    """A YAML scalar that reads back as exactly ``text`` (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _schema(path: str, kind: str) -> str:
    depth = path.count("/")
    return f"# yaml-language-server: $schema={'../' * depth}schemas/{kind}.json\n"


def _index_signers(lines: tuple[str, ...]) -> str:
    """The ``indexSigners`` block: the keys whose signatures runtimes trust (docs/index.md)."""
    head = (
        "# the keys that sign the compiled index (armgit compile --key); runtimes pin the root\n"
        "# made from them: armgit index root --key KEY --out root.json\n"
    )
    if not lines:
        return (
            head
            + '# indexSigners: {threshold: 1, keys: [{name: ci, publicKey: "ssh-ed25519 ..."}]}\n'
        )
    keys = "".join(
        f"    - {{name: index-{i + 1}, publicKey: {_q(' '.join(line.split()[:2]))}}}\n"
        for i, line in enumerate(lines)
    )
    return head + f"indexSigners:\n  threshold: 1\n  keys:\n{keys}"


def registry_files(opts: InitOptions) -> dict[str, str]:
    """Path -> content of every file of a new registry; raises ``ValueError`` on a bad name."""
    for word, name in (("registry", opts.registry), ("tenant", opts.tenant), ("admin", opts.admin)):
        if not is_valid_name(name):
            raise ValueError(
                f"{word} name {name!r} is not valid: use lowercase ASCII letters, digits and '-'"
            )
    t = f"tenants/{opts.tenant}"
    files = {
        "armgit.yaml": (
            "# The registry's settings: protected branches, approval rules, index signers.\n"
            "apiVersion: armgit/v1\nkind: Registry\n"
            f"name: {opts.registry}\n"
            "protectedBranches: [main]\n"
            "# who may change this file, create or remove tenants, and change files outside\n"
            "# armgit.yaml and tenants/ on a protected branch (TENANT/OPERATOR)\n"
            f"registryAdmins: [{opts.tenant}/{opts.admin}]\n"
            "approvalRules:\n"
            '  - {requestType: VERSION_PROMOTION, count: 1, permission: "approve:versions", '
            "expiresIn: 48h}\n"
            '  - {requestType: DEPLOYMENT_ACTIVATION, count: 1, permission: "approve:deployments", '
            "expiresIn: 48h}\n"
            '  - {requestType: INSTANCE_REACTIVATION, count: 1, permission: "approve:instances", '
            "expiresIn: 12h}\n"
            '  - {requestType: POLICY_AUTONOMY_INCREASE, count: 1, permission: "approve:policies", '
            "expiresIn: 72h}\n"
            '  - {requestType: PRIVILEGE_WIDENING, count: 1, permission: "approve:versions", '
            "expiresIn: 48h}\n" + _index_signers(opts.index_keys)
        ),
        f"{t}/tenant.yaml": (
            f"apiVersion: armgit/v1\nkind: Tenant\nname: {_q(opts.tenant_name)}\n"
            f"slug: {opts.tenant}\n"
        ),
        f"{t}/environments/dev.yaml": (
            "apiVersion: armgit/v1\nkind: Environment\nname: dev\ntype: dev\nminLifecycle: DRAFT\n"
        ),
        f"{t}/environments/staging.yaml": (
            "apiVersion: armgit/v1\nkind: Environment\nname: staging\ntype: staging\n"
            "minLifecycle: CANDIDATE\n"
        ),
        f"{t}/environments/prod.yaml": (
            "apiVersion: armgit/v1\nkind: Environment\nname: prod\ntype: prod\n"
            "protected: true              # activating a deployment here needs approvals\n"
            "requiredApprovals: 1\n"
            "requireActiveDeployment: true  # instances run only what is deployed\n"
            "minLifecycle: APPROVED\n"
        ),
        f"{t}/roles/admin.yaml": (
            "apiVersion: armgit/v1\nkind: Role\nname: admin\n"
            "description: Runs the registry itself.\npermissions: ['*:*']\n"
        ),
        f"{t}/roles/engineer.yaml": (
            "apiVersion: armgit/v1\nkind: Role\nname: engineer\n"
            "description: Builds agents and moves them through their lifecycle.\n"
            "permissions:\n  - write:templates\n  - write:versions\n  - transition:versions\n"
            "  - write:instances\n  - transition:instances\n  - write:deployments\n"
            "  - write:approvals\n"
        ),
        f"{t}/roles/reviewer.yaml": (
            "apiVersion: armgit/v1\nkind: Role\nname: reviewer\n"
            "description: Approves promotions, deployments and autonomy increases.\n"
            "permissions:\n  - approve:versions\n  - approve:deployments\n"
            "  - approve:instances\n  - approve:policies\n  - write:approvals\n"
        ),
        f"{t}/operators/{opts.admin}.yaml": _operator(opts),
    }
    return {path: _schema(path, _kind_file(path)) + text for path, text in files.items()}


def _operator(opts: InitOptions) -> str:
    lines = [
        "apiVersion: armgit/v1",
        "kind: Operator",
        f"name: {opts.admin}",
        f"email: {_q(opts.admin_email)}",
    ]
    if opts.admin_identities:
        lines.append("identities:")
        lines += [f"  - {_q(i)}" for i in opts.admin_identities]
    if opts.admin_ssh_keys:
        lines.append("sshKeys:")
        lines += [f"  - {_q(k)}" for k in opts.admin_ssh_keys]
    lines += ["roles:", "  - role: admin"]
    return "\n".join(lines) + "\n"


def _kind_file(path: str) -> str:
    if path == "armgit.yaml":
        return "registry"
    if path.endswith("tenant.yaml"):
        return "tenant"
    directory = path.split("/")[-2]
    return {"environments": "environment", "roles": "role", "operators": "operator"}[directory]
