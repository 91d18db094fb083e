"""Pure cryptography, bytes in and bytes out.

- :mod:`.sshkeys` and :mod:`.sshsig`: OpenSSH public keys and SSH signatures (SSHSIG), for
  approvals that stock ``ssh-keygen -Y verify`` can check.
- :mod:`.ed25519` and :mod:`.dsse`: the index's Ed25519 keys in OpenSSH format and its DSSE
  envelopes; shared by the compiler (:mod:`armgit.index`) and :mod:`armgit.runtime`, which
  must not import each other's side.

Nothing here touches the filesystem, the network or a subprocess; callers read key files and
signatures and hand over their contents.
"""
