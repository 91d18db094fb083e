"""The signed index, I/O side: compiling a registry to a signed file, and publishing it.

- :mod:`.compile` (I/O) writes one signed index file for a registry at a commit;
  :mod:`.compiler` (I/O: pygit2, the compile cache) is its part that reads git and builds each
  tenant's fragment where the cache lacks it.
- :mod:`.publish` (I/O) is the post-receive hook's compile-and-publish.

The payload is built by the pure :mod:`armgit.core.index`; keys and the DSSE envelope are in
:mod:`armgit.crypto`; the runtime that loads the index is :mod:`armgit.runtime`.
"""
