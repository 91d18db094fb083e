"""The audit trail (SPEC section 6): typed change records, deriving them, and their cache.

- :mod:`.records` (pure) says what one entity's change between two commits means.
- :mod:`.derive` (I/O: pygit2) derives one commit's records from its tree and its parent's.
- :mod:`.walk` (I/O: git plumbing, worker processes) derives a long history, per tenant.
- :mod:`.log` (I/O, standard library only) is the cache file of records, one block per commit,
  keyed by a fingerprint of the code the records rest on (``_CODE``).
- :mod:`.fast` (I/O: git plumbing, no pygit2 or models) answers ``armgit audit`` from the cache
  when every commit is in it.
- :mod:`.query` (I/O) brings them together: records for a branch, filtered.
"""
