"""Authoring: the commands that change a registry, and approving and reviewing changes.

Pure (data in, data out; the CLI brings files, keys and the clock):

- :mod:`.plans`: what ``promote``/``deploy``/``rollback``/``retire``/``instance`` change.
- :mod:`.newfiles`: new documents for ``armgit new``; :mod:`.scaffold`: ``armgit init``'s files.
- :mod:`.approval_file`: the statement for a gate and the approval file holding it.
- :mod:`.github_review`: GitHub review webhook payloads and REST API answers, for attested
  approvals.
- :mod:`.edit`: YAML bytes to YAML bytes, comments and layout kept.

I/O:

- :mod:`.apply`: applies a plan in a work tree, checks it with the server's rules
  (:mod:`armgit.enforce.ranges`), writes it atomically and commits it when asked.
- :mod:`.approve`: finds a work tree's gated changes and signs approvals for them.
- :mod:`.attest`: attests a pull-request review, checked at its source, as approvals (or
  rejections); :mod:`.github_api` reads that source, the GitHub REST API (``urllib``).
- :mod:`.review`: a range of commits as meaning, and where each gate stands.
"""
