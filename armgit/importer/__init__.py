"""Import from the Convex-based ARM and Mission Control (SPEC section 14).

- :mod:`.ids` (pure) decodes Convex document ids to their table numbers.
- :mod:`.export` (pure) parses a snapshot export's entries (bytes) in either export format into
  rows, refusing what it cannot read with the table, line and field.
- :mod:`.files` (I/O) reads those entries from a ZIP or its unpacked folder.
- :mod:`.names` (pure) makes valid, collision-free armgit names, with a ``--names`` override.
- :mod:`.mapping`, :mod:`.fleet`, :mod:`.genome`, :mod:`.mc` (pure) turn ARM and Mission
  Control rows into registry documents (:mod:`.model`), with their ``legacy`` blocks, genome
  hash verdicts and a report of what was and was not imported; :mod:`.build` runs them in order
  and checks every document against its model; :mod:`.render` writes them as YAML.
- :mod:`.replay` (pure) the values update records say a template, policy or role held before
  each update; :mod:`.history` (pure) turns the change records into an ordered plan of commits.
- :mod:`.write` (I/O: pygit2) writes that plan as commits on an import branch, deterministically.
- :mod:`.run` (I/O) the whole import, for the command; :mod:`.build` checks every document.

The import mark its commits carry is :mod:`armgit.core.importmark`; which marked commits are
honoured, :mod:`armgit.enforce.imported`.
"""
