"""The signed index, I/O side: keys, the DSSE envelope, compiling a registry, publishing it.

- :mod:`.keys` and :mod:`.dsse`: Ed25519 keys in OpenSSH format and DSSE envelopes, bytes in
  and out (no files).
- :mod:`.compile` (I/O) writes one signed index file for a registry at a commit;
  :mod:`.compiler` (I/O: pygit2, the compile cache) is its part that reads git and builds each
  tenant's fragment where the cache lacks it.
- :mod:`.publish` (I/O) is the post-receive hook's compile-and-publish.

The payload itself is built by the pure :mod:`armgit.core.index`; the runtime that loads it is
:mod:`armgit.runtime`.
"""
