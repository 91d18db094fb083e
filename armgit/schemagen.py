"""Write ``schemas/*.json`` from the models: ``python -m armgit.schemagen [DIR]``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from armgit.core.schemas import all_schemas


def render(schema: object) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in all_schemas().items():
        path = directory / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("schemas")
    for path in write_schemas(target):
        print(path)
