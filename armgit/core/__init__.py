"""The pure core: models, rules, hashing and policy. Never touches git, files, network or click.

- :mod:`.models`: one pydantic model per file kind.
- :mod:`.rules`: the judgement: state rules, change rules, access, approvals, ceilings,
  lifecycle, trust, widening, scope.
- :mod:`.index`: the signed index's payload, policy resolution and decisions.
- Shared data: :mod:`.layout` (paths and ids), :mod:`.snapshot`, :mod:`.content` and
  :mod:`.canonical` (parsing and genome hashes), :mod:`.jsondata`, :mod:`.yamldata`,
  :mod:`.findings`, :mod:`.meaning`, :mod:`.directory`, :mod:`.timeutil`, :mod:`.moment`,
  :mod:`.patterns`, :mod:`.refupdates`, :mod:`.record_types`, :mod:`.schemas`.

Everything here is pure (an import-linter contract in pyproject.toml keeps pygit2, click and the
store out); the packages above read files and git and hand the bytes in.
"""
