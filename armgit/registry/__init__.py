"""Reading a registry at a commit: the files of one tree as a snapshot, and its history.

- :mod:`.loader` (I/O: the store's trees and content cache) reads a whole registry into a
  :class:`~armgit.core.snapshot.Snapshot` plus its files' findings, the cyclic collector paused.
- :mod:`.lazyview` (I/O, on demand) reads and parses only the files the rules ask for: what keeps
  the hook's check proportional to the push.
- :mod:`.history` (I/O: pygit2) walks a branch's first parents and finds the commit for a time.

Nothing here judges: the rules are in :mod:`armgit.core.rules`. Below this are the store and the
pure core; the capability packages (enforce, audit, authoring, index) read through it.
"""
