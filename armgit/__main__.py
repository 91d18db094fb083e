from __future__ import annotations

from armgit.cli.main import main

if __name__ == "__main__":
    main()
