"""The audit trail (SPEC section 6): typed change records, deriving them, and their cache.

- :mod:`.records` (pure) says what one entity's change between two commits means.
- :mod:`.derivation` (pure) is one commit's records: the one derivation every driver runs.
- Its drivers: :mod:`.derive` (I/O: pygit2) a few new commits, one at a time from their trees;
  :mod:`.walk` (I/O: git plumbing, worker processes) a long history, one walk per tenant.
- :mod:`.log` (I/O, standard library only) is the cache file of records, one block per commit,
  keyed by a fingerprint of the code the records rest on (``_CODE``).
- :mod:`.fast` (I/O: git plumbing, no pygit2 or models) answers ``armgit audit`` from the cache
  when every commit is in it.
- :mod:`.query` (I/O) brings them together: records for a branch, filtered.
"""
