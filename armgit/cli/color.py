"""Whether output is colored: ``--color auto|always|never`` and ``NO_COLOR`` (no-color.org)."""

from __future__ import annotations

import os


def use_color(choice: str) -> bool | None:
    """click's ``Context.color`` for ``choice``: True or False forces, None leaves click to decide
    (colors on a terminal only). ``NO_COLOR`` set to anything but empty turns ``auto`` off."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return None
