"""The registry layout: which path holds which entity, and how entities are named on the CLI.

Identity comes from the path (SPEC section 2). ``identify`` maps a path to an :class:`EntityId`,
to ``None`` for files armgit does not govern (anything outside ``tenants/`` but ``armgit.yaml``,
and artifact files inside a template directory), or to a :class:`PathProblem`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from armgit.core.patterns import NAME_MAX, NAME_PATTERN, SEMVER_PATTERN

REGISTRY_FILE = "armgit.yaml"
TENANTS_DIR = "tenants"

_NAME = re.compile(NAME_PATTERN)


def _is_name(text: str) -> bool:
    # fullmatch: with match, "$" also matched before a trailing newline ("prod\n")
    return len(text) <= NAME_MAX and _NAME.fullmatch(text) is not None


_LABEL = re.compile(SEMVER_PATTERN)

# directory under tenants/<t>/ -> kind of the <name>.yaml files in it
_FLAT_KINDS = {
    "environments": "Environment",
    "providers": "Provider",
    "operators": "Operator",
    "roles": "Role",
    "policies": "Policy",
    "instances": "Instance",
    "approvals": "Approval",
}
KIND_DIRS = {kind: directory for directory, kind in _FLAT_KINDS.items()}
# the word used for a kind in a TENANT/KIND/NAME reference
REF_WORDS = {kind: kind.lower() for kind in _FLAT_KINDS.values()} | {"Deployment": "deployment"}
_REF_KINDS = {word: kind for kind, word in REF_WORDS.items()}


@dataclass(frozen=True, slots=True, order=True)
class EntityId:
    """Who an entity is. ``name`` is the label for versions and ``ENV/TEMPLATE`` for deployments;
    ``template`` is set for versions only."""

    kind: str
    tenant: str = ""
    name: str = ""
    template: str = ""

    @property
    def ref(self) -> str:
        """The CLI reference: ``T/TEMPLATE@LABEL``, ``T/TEMPLATE``, ``T``, or ``T/KIND/NAME``."""
        if self.kind == "Registry":
            return "registry"
        if self.kind == "Tenant":
            return self.tenant
        if self.kind == "Template":
            return f"{self.tenant}/{self.name}"
        if self.kind == "Version":
            return f"{self.tenant}/{self.template}@{self.name}"
        return f"{self.tenant}/{REF_WORDS[self.kind]}/{self.name}"

    @property
    def path(self) -> str:
        """The file that holds this entity, relative to the registry root."""
        base = f"{TENANTS_DIR}/{self.tenant}"
        if self.kind == "Registry":
            return REGISTRY_FILE
        if self.kind == "Tenant":
            return f"{base}/tenant.yaml"
        if self.kind == "Template":
            return f"{base}/templates/{self.name}/template.yaml"
        if self.kind == "Version":
            return f"{base}/templates/{self.template}/versions/{self.name}.yaml"
        if self.kind == "Deployment":
            return f"{base}/deployments/{self.name}.yaml"
        return f"{base}/{KIND_DIRS[self.kind]}/{self.name}.yaml"

    def __str__(self) -> str:
        return self.ref


REGISTRY_ID = EntityId("Registry")


def tenant_id(tenant: str) -> EntityId:
    return EntityId("Tenant", tenant)


def template_id(tenant: str, template: str) -> EntityId:
    return EntityId("Template", tenant, template)


def version_id(tenant: str, template: str, label: str) -> EntityId:
    return EntityId("Version", tenant, label, template)


def deployment_id(tenant: str, environment: str, template: str) -> EntityId:
    return EntityId("Deployment", tenant, f"{environment}/{template}")


def named_id(kind: str, tenant: str, name: str) -> EntityId:
    return EntityId(kind, tenant, name)


@dataclass(frozen=True, slots=True)
class PathProblem:
    """Why a path cannot hold an entity; ``rule`` is a finding rule id."""

    rule: str
    message: str


def is_valid_name(name: str) -> bool:
    return bool(_is_name(name))


def git_refuses(path: str) -> bool:
    """Whether git refuses to check out ``path``: a segment that is ``.git`` to a
    case-insensitive or Windows file system (``.GIT``, ``.git.``, ``git~1``), ``.`` or ``..``.
    A commit holding one breaks every clone, and an old git on such a file system would write
    into the clone's own ``.git``."""
    for segment in path.split("/"):
        folded = segment.rstrip(". ").lower()
        if segment in ("", ".", "..") or folded in (".git", "git~1"):
            return True
    return False


def identify(path: str) -> EntityId | PathProblem | None:
    """Map a registry-relative path to the entity it must hold."""
    if path == REGISTRY_FILE:
        return REGISTRY_ID
    parts = path.split("/")
    if parts[0] != TENANTS_DIR:
        return None
    if len(parts) < 3:
        return PathProblem("unexpected-file", "only tenant directories belong in tenants/")
    tenant = parts[1]
    if not _is_name(tenant):
        return _bad_name("tenant", tenant)
    rest = parts[2:]
    if rest == ["tenant.yaml"]:
        return tenant_id(tenant)
    if rest[-1] == ".gitkeep":
        return None
    if rest[0] in _FLAT_KINDS and len(rest) == 2:
        name = _stem(rest[1])
        if name is None:
            return _not_yaml(rest[1])
        if not _is_name(name):
            return _bad_name(REF_WORDS[_FLAT_KINDS[rest[0]]], name)
        return named_id(_FLAT_KINDS[rest[0]], tenant, name)
    if rest[0] == "deployments" and len(rest) == 3:
        environment, file_name = rest[1], rest[2]
        template = _stem(file_name)
        if template is None:
            return _not_yaml(file_name)
        for word, name in (("environment", environment), ("template", template)):
            if not _is_name(name):
                return _bad_name(word, name)
        return deployment_id(tenant, environment, template)
    if rest[0] == "templates" and len(rest) >= 3:
        return _identify_template_file(tenant, rest[1], rest[2:])
    return PathProblem(
        "unexpected-file",
        "no entity belongs at this path: see the registry layout in docs/layout.md",
    )


def _identify_template_file(
    tenant: str, template: str, rest: list[str]
) -> EntityId | PathProblem | None:
    if not _is_name(template):
        return _bad_name("template", template)
    if rest == ["template.yaml"]:
        return template_id(tenant, template)
    if rest[0] != "versions":
        return None  # an artifact (prompt bundle, tool manifest, ...) kept beside the template
    if len(rest) != 2:
        return PathProblem("unexpected-file", "versions/ holds only <label>.yaml files")
    label = _stem(rest[1])
    if label is None:
        return _not_yaml(rest[1])
    if not _LABEL.fullmatch(label):
        return PathProblem(
            "invalid-name", f"version label {label!r} is not a SemVer label like 1.2.0"
        )
    return version_id(tenant, template, label)


def _stem(file_name: str) -> str | None:
    return file_name[: -len(".yaml")] if file_name.endswith(".yaml") else None


def _not_yaml(file_name: str) -> PathProblem:
    return PathProblem("unexpected-file", f"{file_name!r}: entity files end in .yaml")


def _bad_name(word: str, name: str) -> PathProblem:
    return PathProblem(
        "invalid-name",
        f"{word} name {name!r} is not valid: use lowercase ASCII letters, digits and '-' "
        "(at most 63 characters, starting and ending with a letter or digit)",
    )


def parse_ref(ref: str) -> EntityId:
    """Parse a CLI reference (see :attr:`EntityId.ref`); raises ``ValueError`` with the reason."""
    if ref == "registry":
        return REGISTRY_ID
    if "@" in ref:
        head, _, label = ref.partition("@")
        tenant, _, template = head.partition("/")
        if not (tenant and template and label) or "/" in template:
            raise ValueError(f"{ref!r}: a version is TENANT/TEMPLATE@LABEL")
        _check_names(ref, tenant, template)
        if not _LABEL.fullmatch(label):
            raise ValueError(f"{ref!r}: {label!r} is not a SemVer label like 1.2.0")
        return version_id(tenant, template, label)
    parts = ref.split("/")
    _check_names(ref, *parts)
    if len(parts) == 1:
        return tenant_id(parts[0])
    if len(parts) == 2:
        return template_id(parts[0], parts[1])
    kind = _REF_KINDS.get(parts[1])
    if kind == "Deployment" and len(parts) == 4:
        return deployment_id(parts[0], parts[2], parts[3])
    if kind is not None and kind != "Deployment" and len(parts) == 3:
        return named_id(kind, parts[0], parts[2])
    words = ", ".join(sorted(_REF_KINDS))
    raise ValueError(
        f"{ref!r}: expected TENANT/TEMPLATE@LABEL, TENANT/TEMPLATE, TENANT, "
        f"TENANT/KIND/NAME (KIND one of {words}) or TENANT/deployment/ENV/TEMPLATE"
    )


def _check_names(ref: str, *names: str) -> None:
    for name in names:
        if not _is_name(name):
            raise ValueError(f"{ref!r}: {name!r} is not a valid name")


def may_run(ref: object, template: str) -> bool:
    """Whether an instance whose ``version`` is written as ``ref`` may run a version of a
    template named ``template`` (of any tenant: a reference to another tenant's is an error
    its own check reports); ``True`` when ``ref`` cannot be read that far."""
    names = runnable(ref)
    return names is None or template in names


def runnable(ref: object) -> frozenset[str] | None:
    """The template names :func:`may_run` accepts for ``ref`` (``None``: any), for indexing
    many instances by the template they may run."""
    if not isinstance(ref, str) or "@" not in ref:
        return None
    head = ref.partition("@")[0]
    return frozenset((head, head.partition("/")[2], head.rpartition("/")[2]))
