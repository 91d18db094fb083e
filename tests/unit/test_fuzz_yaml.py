"""Fuzzing the reading of registry files: whatever the bytes, findings or success, never a crash.

The example registry's files are mutated byte by byte (flips, YAML punctuation inserted, ranges
deleted) and structure by structure (a value replaced by an odd YAML scalar, a huge or non-finite
number, an anchor, alias or tag, deep nesting; keys with odd characters; values swapped for ones
found elsewhere in the registry, so that some mutants stay valid and reach the rules between
files). Each mutant goes through what ``armgit validate`` and ``armgit compile`` do, without git:
the reader and the models file by file, the loader and the state rules over the whole tree, and,
when they find nothing, the compiler and the runtime's verification of what it signed.

A bug found here is kept as a named regression test in test_content.py or test_yamldata.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from ruamel.yaml.error import YAMLError

from armgit.core.content import content_from_data, parse_content
from armgit.core.findings import RULES
from armgit.core.jsondata import JsonValue
from armgit.core.yamldata import MAX_SAFE_INTEGER, YamlDoc, _Composer, parse_yaml
from armgit.crypto.ed25519 import public_key_line
from armgit.index.compiler import Compiler
from armgit.index.signed import make_options
from armgit.runtime import TrustRoot, verify_index
from armgit.store.memory import MemoryTree
from tests.unit.helpers import example_files, node_paths

FILES = example_files()
YAML_FILES = sorted(p for p in FILES if p.endswith(".yaml"))
KEY = Ed25519PrivateKey.generate()
TRUST = TrustRoot.from_public_keys([public_key_line(KEY.public_key())])
ISSUED = datetime(2027, 1, 15, tzinfo=UTC)
NOW = ISSUED.timestamp() + 60
OPTIONS = make_options(ISSUED, timedelta(days=7), None, None)

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class Raw(str):
    """YAML text written into a mutant as it is (a scalar, a key, a flow collection)."""

    __slots__ = ()


def _read(data: bytes) -> JsonValue:
    doc = parse_yaml(data)
    assert isinstance(doc, YamlDoc), doc
    return doc.data


def _scalars(value: JsonValue) -> list[JsonValue]:
    if isinstance(value, dict):
        return [*value, *(s for v in value.values() for s in _scalars(v))]
    if isinstance(value, list):
        return [s for v in value for s in _scalars(v)]
    return [value]


def _by_key(value: JsonValue, found: dict[str, set[str]]) -> dict[str, set[str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            found.setdefault(k, set()).add(json.dumps(v))
            _by_key(v, found)
    elif isinstance(value, list):
        for v in value:
            _by_key(v, found)
    return found


DATA = {p: _read(FILES[p]) for p in YAML_FILES}
# what each field holds somewhere in the example (every policy name, state, label, ...)
BY_KEY: dict[str, list[str]] = {}
for _value in DATA.values():
    for _k, _found in _by_key(_value, {}).items():
        BY_KEY[_k] = sorted({*BY_KEY.get(_k, []), *_found})
# every name, label, state and number the example holds: a value swapped for one of these often
# leaves the file valid, so the rules between files run on the mutant
KNOWN = sorted({json.dumps(s) for v in DATA.values() for s in _scalars(v)})

# -- odd YAML -------------------------------------------------------------------------------

_NUMBERS = [
    "1e400",
    "-1e400",
    "1E+999",
    ".inf",
    "-.Inf",
    "+.INF",
    ".nan",
    ".NaN",
    "1e-400",
    "4.9e-324",
    "1.7976931348623157e308",
    "1.7e308",
    "9007199254740991",
    "9007199254740992",
    "-9007199254740992",
    "9" * 4301,
    "-" + "0" * 5000 + "1",
    "0x" + "f" * 5000,
    "0o" + "7" * 30,
    "0x1F",
    "0o17",
    "007",
    "+12",
    "-0",
    "-0.0",
    "1_000",
    "0b101",
    "1e3",
    ".5",
    "5.",
]
_TAGGED = [
    "!!float 1e400",
    "!!float '1e400'",
    "!!float .inf",
    "!!int '" + "9" * 5000 + "'",
    "!!int 0x" + "f" * 20,
    "!!str 12",
    "!!binary aGk=",
    "!!timestamp 2026-01-01",
    "!!python/object:os.system ls",
    "!!null ''",
    "!!bool yes",
    "!!map {a: 1}",
    "!!seq [1]",
    "!!set {a}",
    "!custom x",
    "!<tag:yaml.org,2002:int> 5",
    "! x",
]
_ANCHORS = ["&a 1", "*a", "&a [1, 2]", "&a {x: 1}", "&b x", "*b", "&a", "[*a, *a]", "{<<: *a}"]
_OTHER = [
    "null",
    "~",
    "",
    "true",
    "False",
    "yes",
    "2026-01-01",
    "2026-01-01T10:00:00Z",
    "12:30:00",
    '"\\u0000"',
    '"\\ud83d"',
    '"\\ud83d\\ude00"',
    '"\\x85\\u2028"',
    "'it''s'",
    "a[",
    "a]",
    "a: b",
    "[github:alice]",
    "{a: 1, a: 2}",
    "[]",
    "{}",
    "[[]]",
    "@x",
    "`x",
    "%x",
    "? a",
    "- a",
    "|",
    ">-",
    "#",
    "[" * 64 + "]" * 64,
    "[" * 66 + "]" * 66,
    "[" * 6000 + "]" * 6000,
    "{a: " * 70 + "1" + "}" * 70,
]
_KEYS = [
    "a[",
    "]",
    "function-after[x]",
    "function-plain[y]",
    "constrained-str",
    "[key]",
    "'[key]'",
    "<<",
    "'<<'",
    "1",
    "0x10",
    "true",
    "null",
    "~",
    "''",
    '"\\u0000"',
    "[a]",
    "{a: 1}",
    "&k a",
    "*k",
    "!!str 1",
    "!!int 1",
    "'kind'",
    "apiVersion",
    "kind",
    "genome",
    "/",
    "~1",
    "a/b~c",
    "'\\u00e9'",
]

scalars = st.sampled_from([*_NUMBERS, *_TAGGED, *_ANCHORS, *_OTHER]).map(Raw)
tame = st.sampled_from(KNOWN).map(Raw)
# numbers at the edges of what JSON holds, for the fields that hold numbers (the largest first:
# hypothesis draws the first elements of a list more often)
_EDGES = ["1.7e308", "1.7976931348623157e308", "9007199254740991", "5e-324", "0.1", "-0.0", "0"]
NUMBER_FIELDS = sorted(
    (k for k, v in BY_KEY.items() if any(x[0] in "-0123456789" for x in v)),
    key=lambda k: k not in ("monthlyCost", "dailyTokens"),  # the costs, bounded by ceilings
)
TAME_BY_KEY = {k: sorted({*v, *_EDGES}) if k in NUMBER_FIELDS else v for k, v in BY_KEY.items()}
json_values: st.SearchStrategy[JsonValue] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
keys = st.sampled_from(_KEYS).map(Raw) | st.text(max_size=8)


# -- writing a mutated tree back as YAML ----------------------------------------------------


def _scalar(value: JsonValue) -> str:
    if isinstance(value, Raw):
        return str(value)
    return json.dumps(value, ensure_ascii=False)  # JSON text is YAML


def _key(key: str) -> str:
    return str(key) if isinstance(key, Raw) else json.dumps(key, ensure_ascii=False)


def to_yaml(value: JsonValue, *, flow: bool, indent: int = 0) -> str:
    """``value`` as YAML text, block or flow style, with every :class:`Raw` written as it is."""
    pad = " " * indent
    if flow or not isinstance(value, dict | list) or not value:
        if isinstance(value, dict):
            items = (f"{_key(k)}: {to_yaml(v, flow=True)}" for k, v in value.items())
            return "{" + ", ".join(items) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(to_yaml(v, flow=True) for v in value) + "]"
        return _scalar(value)
    lines = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, dict | list) and v:
                lines.append(f"{pad}{_key(k)}:\n{to_yaml(v, flow=False, indent=indent + 2)}")
            else:
                lines.append(f"{pad}{_key(k)}: {to_yaml(v, flow=True)}")
    else:
        for v in value:
            if isinstance(v, dict | list) and v:
                lines.append(f"{pad}-\n{to_yaml(v, flow=False, indent=indent + 2)}")
            else:
                lines.append(f"{pad}- {to_yaml(v, flow=True)}")
    return "\n".join(lines)


def _parent(root: Any, path: tuple[str | int, ...]) -> Any:
    node = root
    for part in path[:-1]:
        node = node[part]
    return node


def _set_everywhere(value: Any, field: str, new: Raw) -> bool:
    """Set ``field`` to ``new`` in every mapping of ``value`` that has it; whether any had."""
    found = False
    if isinstance(value, dict):
        if field in value:
            value[field] = new
            found = True
        for v in value.values():
            found = _set_everywhere(v, field, new) or found
    elif isinstance(value, list):
        for v in value:
            found = _set_everywhere(v, field, new) or found
    return found


@st.composite
def structure_mutants(draw: st.DrawFn) -> dict[str, bytes]:
    """The example with files changed value by value, written back as YAML."""
    trees: dict[str, Any] = {}
    # a tame mutant swaps values for ones the registry holds or edge numbers (and often stays
    # valid, so the rules between files and the compiler run on it); an odd one writes odd YAML
    values = draw(st.sampled_from([tame, tame, scalars]))
    names = keys if values is scalars else tame
    edited = 1
    if values is tame and draw(st.booleans()):  # a number set alike in every file (all costs)
        name = draw(st.sampled_from(NUMBER_FIELDS))
        new = Raw(draw(st.sampled_from(_EDGES)))
        edited = 0
        for path in YAML_FILES:
            tree = json.loads(json.dumps(DATA[path]))
            if _set_everywhere(tree, name, new):
                trees[path] = tree
    for path in draw(
        st.lists(st.sampled_from(YAML_FILES), min_size=edited, max_size=3, unique=True)
    ):
        data = trees.setdefault(path, json.loads(json.dumps(DATA[path])))  # a deep copy
        for _ in range(draw(st.integers(1, 3))):
            places = node_paths(data)
            if not places:
                break
            place = draw(st.sampled_from(places))
            parent = _parent(data, place)
            what = draw(st.sampled_from(["replace", "replace", "json", "add", "delete", "rekey"]))
            field = place[-1]
            if what == "replace" and values is tame and isinstance(field, str) and field in BY_KEY:
                parent[field] = Raw(draw(st.sampled_from(TAME_BY_KEY[field])))
            elif what == "replace":
                parent[field] = draw(values)
            elif what == "json" and values is scalars:
                parent[field] = draw(json_values)
            elif what == "add" and isinstance(parent, dict):
                parent[draw(names)] = draw(values | json_values)
            elif what == "delete":
                del parent[field]
            elif what == "rekey" and isinstance(parent, dict):
                value = parent.pop(field)
                parent[draw(names)] = value
    files = dict(FILES)
    for path, data in trees.items():
        files[path] = to_yaml(data, flow=draw(st.booleans())).encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 9)) == 0:  # now and then, a file goes or appears elsewhere
        gone = draw(st.sampled_from(sorted(FILES)))
        copy = draw(st.sampled_from(YAML_FILES))
        files[draw(st.sampled_from(YAML_FILES)).replace(".yaml", "-2.yaml")] = files.pop(gone)
        files[copy.replace("arm-dev", "other")] = FILES[copy]
    return files


_TOKENS = [
    b"[", b"]", b"{", b"}", b":", b": ", b",", b"- ", b"? ", b"&a ", b"*a", b"!!float ",
    b"!x ", b"<<: ", b"\n", b"\n  ", b"\n- ", b"\t", b"#", b"|", b">", b"'", b'"', b"\\",
    b"%YAML 1.1\n", b"---\n", b"...\n", b"\x00", b"\xff", b"\xef\xbb\xbf", b"\\u", b"e400",
    b"9" * 30, b".inf", b".nan", b"~", b"@", b"`", b"\r", b"\x85", b"\xe2\x80\xa8",
]  # fmt: skip


@st.composite
def byte_mutants(draw: st.DrawFn) -> tuple[str, bytes]:
    """One example file with a few bytes flipped, inserted or deleted."""
    path = draw(st.sampled_from(YAML_FILES))
    data = bytearray(FILES[path])
    for _ in range(draw(st.integers(1, 6))):
        where = draw(st.integers(0, len(data)))
        what = draw(st.sampled_from(["flip", "insert", "insert", "delete"]))
        if what == "flip" and data:
            data[where % len(data)] ^= 1 << draw(st.integers(0, 7))
        elif what == "insert":
            data[where:where] = draw(st.sampled_from(_TOKENS) | st.binary(min_size=1, max_size=3))
        else:
            del data[where : where + draw(st.integers(1, 12))]
    return path, bytes(data)


# -- what must hold -------------------------------------------------------------------------


def _no_anchor_events(data: bytes) -> bool:
    parser = _Composer(data)
    try:
        while (event := parser.get_event()) is not None:
            if getattr(event, "anchor", None) is not None:
                return False
    except YAMLError:
        pass
    finally:
        parser.dispose()
    return True


def judge_file(data: bytes) -> None:
    """A file is a model or problems, each with a known rule; what is read is JSON data."""
    content = parse_content(data)
    assert (content.model is None) == bool(content.problems)
    for problem in content.problems:
        assert problem.rule in RULES
        assert problem.message
        assert problem.pointer == "" or problem.pointer.startswith("/")
    doc = parse_yaml(data)
    if isinstance(doc, YamlDoc):
        assert _no_anchor_events(data), "an anchor or alias was read"
        text = json.dumps(doc.data, allow_nan=False, ensure_ascii=False)  # finite numbers
        assert json.loads(text) == doc.data
    if content.model is not None:
        # what the content cache keeps and restores is the same model
        assert content.kind is not None
        restored = content_from_data(content.kind, json.loads(json.dumps(content.data)))
        assert restored.model == content.model


def judge_registry(files: dict[str, bytes]) -> None:
    """Findings, or an index that compiles, signs and verifies."""
    compiled = Compiler(MemoryTree(files)).compile([KEY], OPTIONS)
    for finding in compiled.findings:
        assert finding.rule in RULES
    event("compiled" if compiled.envelope is not None else "refused")
    for rule in sorted({f.rule for f in compiled.findings}):
        event(f"finding {rule}")
    if compiled.envelope is not None:
        assert not compiled.findings
        verify_index(compiled.envelope, TRUST, now=NOW)


def test_the_example_compiles_and_verifies() -> None:
    for data in FILES.values():
        judge_file(data)
    compiled = Compiler(MemoryTree(FILES)).compile([KEY], OPTIONS)
    assert compiled.findings == []
    assert compiled.envelope is not None
    verify_index(compiled.envelope, TRUST, now=NOW)


def test_the_writer_gives_back_the_example() -> None:
    for path, data in DATA.items():
        for flow in (False, True):
            assert _read(to_yaml(data, flow=flow).encode()) == data, path


@FUZZ
@given(byte_mutants())
def test_byte_mutants_give_findings_or_a_model(mutant: tuple[str, bytes]) -> None:
    path, data = mutant
    judge_file(data)
    judge_registry({**FILES, path: data})


@FUZZ
@given(structure_mutants())
def test_structure_mutants_give_findings_or_an_index(files: dict[str, bytes]) -> None:
    for path, data in files.items():
        if path.endswith(".yaml") and data != FILES.get(path):
            judge_file(data)
    judge_registry(files)
