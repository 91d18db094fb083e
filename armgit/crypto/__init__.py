"""Pure cryptography: OpenSSH keys and SSH signatures (SSHSIG), bytes in and bytes out.

Nothing here touches the filesystem, the network or a subprocess; callers read key files and
signatures and hand over their contents.
"""
