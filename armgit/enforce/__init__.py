"""Enforcement: judging commits and pushes with the rules, and the hooks that do it.

- :mod:`.ranges` (I/O through lazy views) checks a range of commits, each against its parent:
  the state rules for what it touched, the change rules, and the approvals of its gates. The
  server hook, ``armgit check``, ``review`` and ``verify`` all judge through
  :func:`~armgit.enforce.ranges.check_range`.
- :mod:`.protection` (I/O: pygit2) decides which branches a push is judged on, from the server
  as it was before the push.
- :mod:`.hooks` (I/O) is pre-receive, pre-commit and post-receive, and installs their scripts.
- :mod:`.verify` (I/O) replays every rule over a branch's whole history.

The installed hooks run :mod:`armgit.hookrun` (kept at that path: it is written in the hook
scripts of existing servers), which imports :mod:`.hooks` lazily and nothing of the CLI.
The judgement itself is pure and lives in :mod:`armgit.core.rules`.
"""
