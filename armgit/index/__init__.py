"""The signed index, I/O side: compiling a registry to a signed file, and publishing it.

- :mod:`.compile` (I/O) writes one signed index file for a registry at a commit, from the
  caches alone when they hold everything (no libgit2, no models imported);
  :mod:`.compiler` (I/O: pygit2, the compile cache) is the part that reads git and builds each
  tenant's fragment where the cache lacks it;
  :mod:`.signed` (pure) is what both produce: the options, the signing, the result.
- :mod:`.publish` (I/O) is the post-receive hook's compile-and-publish.

The payload is built by the pure :mod:`armgit.core.index`; keys and the DSSE envelope are in
:mod:`armgit.crypto`; the runtime that loads the index is :mod:`armgit.runtime`.
"""
