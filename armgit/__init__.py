"""armgit: the system of record for fleets of AI agents, kept in a Git repository.

Importing the package is deliberately cheap (the server hook starts a fresh interpreter for
every push): nothing here imports pydantic, pygit2 or click.
"""

from __future__ import annotations

__version__ = "0.1.0"
