"""Bytes per part of a signed index's payload: the size table of docs/index.md.

Run: ``python -m benchmarks.index_sizes INDEX [--copies N]`` from the repository root. Each
tenant member (``versions``, ``instances``, ...) is counted as its canonical JSON with its key,
summed over the tenants; ``--copies`` scales the figures to the benchmark's ``index-load``
index, which repeats the compiled tenants (6 copies for the 10,000-version fleet). Reads the
payload as JSON: any format.
"""

from __future__ import annotations

import argparse
import base64
import json
from collections import Counter
from pathlib import Path

from armgit.core.canonical import to_canonical_json


def part_sizes(payload: bytes) -> Counter[str]:
    """Bytes of each tenant member (``"name":value,``), summed over the payload's tenants."""
    sizes: Counter[str] = Counter()
    for tenant in json.loads(payload)["tenants"].values():
        for member, value in tenant.items():
            sizes[member] += len(to_canonical_json(member)) + 2 + len(to_canonical_json(value))
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("index", type=Path, help="a signed index (armgit compile --out)")
    parser.add_argument("--copies", type=int, default=1, help="scale every figure by this")
    args = parser.parse_args()
    signed = args.index.read_bytes()
    payload = base64.b64decode(json.loads(signed)["payload"])
    scale = args.copies / 1e6
    print(f"payload {len(payload) * scale:.2f} MB, signed {len(signed) * scale:.2f} MB")
    for member, size in part_sizes(payload).most_common():
        print(f"  {member:14} {size * scale:6.2f} MB")


if __name__ == "__main__":
    main()
