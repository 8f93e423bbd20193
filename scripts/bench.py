"""SteriStock benchmarks: `python scripts/bench.py [SCENARIO|all]` (see SCENARIOS).

Each scenario lives in `scripts/bench_<name>.py` with a `main(argv)` and prints the figures
that `docs/benchmarks.md` records. See `scripts/benchkit.py` for the harness.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

SCENARIOS = (
    "foundation",
    "inventory",
    "reorder",
    "sterilization",
    "labels",
    "auditor",
    "import",
)


def main(argv: list[str]) -> int:
    wanted = argv[:1] or ["all"]
    names = SCENARIOS if wanted == ["all"] else wanted
    for name in names:
        if name not in SCENARIOS:
            print(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)} or all")
            return 2
        module = importlib.import_module(f"bench_{name}")
        module.main(argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
