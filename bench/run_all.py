"""Run every benchmark in ``bench/`` one after another (``make bench``).

Each benchmark starts the system it needs and measures the baseline in the same run; this
runner only sequences them, so that no two benchmarks share the machine at once.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Helper modules, not benchmarks.
_NOT_BENCHMARKS = {"__init__", "cpu", "loadgen", "system", "run_all", "before_after"}


def main() -> None:
    names = sorted(p.stem for p in HERE.glob("*.py") if p.stem not in _NOT_BENCHMARKS and not p.stem.startswith("_"))
    if len(sys.argv) > 1:
        names = [n for n in names if n in sys.argv[1:]]
    failed = []
    for name in names:
        print(f"== bench.{name}", flush=True)
        started = time.monotonic()
        rc = subprocess.call([sys.executable, "-m", f"bench.{name}"], cwd=HERE.parent)
        print(f"== bench.{name}: exit {rc} after {time.monotonic() - started:.0f}s", flush=True)
        if rc:
            failed.append(name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
