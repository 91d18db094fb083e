"""ARM genomes in armgit's field names, re-hashed (SPEC section 3), with the verdict on the hash
ARM stored: VERIFIED, MISMATCH or PLACEHOLDER. Pure."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from armgit.core.canonical import CanonicalizationError, sha256_digest, to_canonical_json
from armgit.core.jsondata import JsonObject, JsonValue
from armgit.core.patterns import DIGEST_PATTERN, TIME_PATTERN

VERIFIED, MISMATCH, PLACEHOLDER = "VERIFIED", "MISMATCH", "PLACEHOLDER"
# a tool's declared risk when ARM declared none: high, so an imported tool asks for approval
# under every tier below 3 until someone declares a lower one (which is a reviewed widening)
DEFAULT_RISK = "high"
RISKS = ("low", "medium", "high", "critical")
_HEX64 = re.compile(r"^(?:sha256:)?([0-9a-f]{64})$")
_DIGEST = re.compile(DIGEST_PATTERN)
_TIME = re.compile(TIME_PATTERN)
_PERMISSION = re.compile(r"^[A-Za-z0-9_.:/*-]{1,128}$")
_TOOL_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
# Convex ids ARM put inside genomes: never part of an armgit genome
_CONVEX_ID_KEYS = frozenset({"parentVersionId", "templateId", "versionId", "tenantId"})


MAX_TOKENS = 2**53  # an integer every JSON reader holds exactly
TEXT_MAX = 4096
MAX_MS = 253_402_300_800_000.0  # 10000-01-01T00:00:00Z: later is no time


def iso_time(ms: float) -> str:
    """A Convex time (ms since the epoch) as RFC 3339 UTC, milliseconds only when present."""
    when = datetime.fromtimestamp(ms / 1000, UTC)
    millis = int(ms) % 1000
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


def hash_verdict(genome: JsonValue, stored: JsonValue) -> str:
    """Whether ARM's stored hash is the hash of its genome (keys sorted, ``JSON.stringify``,
    SHA-256: for plain JSON data the same bytes as RFC 8785)."""
    match = _HEX64.match(stored) if isinstance(stored, str) else None
    if match is None:
        return PLACEHOLDER
    try:
        actual = hashlib.sha256(to_canonical_json(genome)).hexdigest()
    except CanonicalizationError:
        return MISMATCH
    return VERIFIED if actual == match.group(1) else MISMATCH


def map_genome(legacy: JsonValue, created: str, source: str) -> tuple[JsonObject, list[str]]:
    """The armgit genome for an ARM genome, and notes on what was filled in or left out (the
    ARM genome itself is kept whole in the version's ``legacy`` block)."""
    notes: list[str] = []
    old = legacy if isinstance(legacy, dict) else {}
    if not isinstance(legacy, dict):
        notes.append("the genome was not an object")
    genome: JsonObject = {
        "modelConfig": _model_config(old.get("modelConfig"), notes),
        "promptBundleHash": _digest(old.get("promptBundleHash"), "promptBundleHash", notes),
    }
    manifest = old.get("toolManifest")
    manifest_hash = old.get("toolManifestHash")
    if manifest is None and isinstance(manifest_hash, str) and _DIGEST.match(manifest_hash):
        genome["toolManifestHash"] = manifest_hash
    else:
        genome["toolManifest"] = _tools(manifest, notes)
    genome["provenance"] = _provenance(old.get("provenance"), created, source, notes)
    return genome, notes


def _model_config(value: JsonValue, notes: list[str]) -> JsonObject:
    old = value if isinstance(value, dict) else {}
    config: JsonObject = {}
    for key, item in old.items():
        if key in _CONVEX_ID_KEYS:
            notes.append(f"modelConfig.{key} removed (a Convex id)")
            continue
        config["modelId" if key == "model" else key] = item
    for key in ("provider", "modelId"):
        value = config.get(key)
        if not isinstance(value, str) or not 0 < len(value) <= TEXT_MAX:
            notes.append(f"modelConfig.{key} was missing: set to 'unknown'")
            config[key] = "unknown"
    tokens = config.get("maxTokens")
    if isinstance(tokens, float) and tokens.is_integer() and 0 < tokens < MAX_TOKENS:
        config["maxTokens"] = int(tokens)
    elif tokens is not None and not (
        isinstance(tokens, int) and not isinstance(tokens, bool) and 0 < tokens < MAX_TOKENS
    ):
        notes.append("modelConfig.maxTokens was not a positive integer: left out")
        del config["maxTokens"]
    temperature = config.get("temperature")
    if temperature is not None and not (
        isinstance(temperature, (int, float)) and not isinstance(temperature, bool)
    ):
        notes.append("modelConfig.temperature was not a number: left out")
        del config["temperature"]
    elif isinstance(temperature, int) and not isinstance(temperature, bool):
        config["temperature"] = float(temperature)
    if isinstance(config.get("temperature"), float) and not 0 <= config["temperature"] <= 2:  # type: ignore[operator]
        notes.append("modelConfig.temperature was outside 0..2: left out")
        del config["temperature"]
    return config


def _digest(value: JsonValue, field: str, notes: list[str]) -> str:
    if isinstance(value, str) and _DIGEST.match(value):
        return value
    if isinstance(value, str) and re.match(r"^[0-9a-f]{64}$", value):
        return "sha256:" + value
    notes.append(f"{field} was not a sha256 digest: replaced by the digest of its ARM value")
    return sha256_digest(to_canonical_json(value))


def valid_tool_id(value: object) -> bool:
    """Whether ``value`` can be a tool's id in armgit (``ToolId``)."""
    return isinstance(value, str) and _TOOL_ID.match(value) is not None


def _tools(value: JsonValue, notes: list[str]) -> list[JsonValue]:
    tools: list[JsonValue] = []
    seen: set[str] = set()
    for index, item in enumerate(value if isinstance(value, list) else []):
        tool = item if isinstance(item, dict) else {}
        tool_id = tool.get("toolId", tool.get("id"))
        if not isinstance(tool_id, str) or not _TOOL_ID.match(tool_id) or tool_id in seen:
            notes.append(f"toolManifest[{index}] has no valid, unique toolId: left out")
            continue
        seen.add(tool_id)
        version = tool.get("schemaVersion")
        permissions = tool.get("requiredPermissions")
        risk = tool.get("risk", tool.get("riskLevel"))
        if risk not in RISKS:
            notes.append(f"tool {tool_id}: no declared risk, set to {DEFAULT_RISK}")
            risk = DEFAULT_RISK
        mapped: JsonObject = {
            "toolId": tool_id,
            "schemaVersion": version
            if isinstance(version, str) and 0 < len(version) <= TEXT_MAX
            else "1.0",
            "requiredPermissions": [
                p
                for p in (permissions if isinstance(permissions, list) else [])
                if isinstance(p, str) and _PERMISSION.match(p)
            ],
            "risk": risk,
        }
        description = tool.get("description")
        if isinstance(description, str) and 0 < len(description) <= 4096:
            mapped["description"] = description
        tools.append(mapped)
    return tools


def _provenance(value: JsonValue, created: str, source: str, notes: list[str]) -> JsonObject:
    old = value if isinstance(value, dict) else {}
    if not isinstance(value, dict):
        notes.append("the genome had no provenance: made from the row's creation")
    built_at = old.get("builtAt", old.get("createdAt"))
    if isinstance(built_at, (int, float)) and not isinstance(built_at, bool):
        built_at = iso_time(float(built_at)) if 0 <= built_at < MAX_MS else None
    by = old.get("builtBy", old.get("createdBy"))
    origin = old.get("source")
    provenance: JsonObject = {
        "createdBy": by if isinstance(by, str) and 0 < len(by) <= TEXT_MAX else "unknown",
        "source": origin if isinstance(origin, str) and 0 < len(origin) <= TEXT_MAX else source,
        "createdAt": built_at if isinstance(built_at, str) and _TIME.match(built_at) else created,
    }
    for key in ("commitRef", "buildPipeline"):
        item = old.get(key)
        if isinstance(item, str) and 0 < len(item) <= TEXT_MAX:
            provenance[key] = item
    removed = sorted(k for k in old if k in _CONVEX_ID_KEYS)
    if removed:
        notes.append(f"provenance.{', provenance.'.join(removed)} removed (Convex ids)")
    return provenance
