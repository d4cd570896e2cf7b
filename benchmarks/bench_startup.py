"""Start-up benchmark: ``foncier --help`` against ``python -c pass``.

Each command runs ``--repeat`` times in a fresh interpreter, alternating
(A, B, A, B, …) so that both see the same load on a shared machine; the
median of each and their ratio are printed, with the modules of the data
stack that ``--help`` loaded (there should be none).

Usage::

    python benchmarks/bench_startup.py [--repeat 15]

Target: ``foncier --help`` under 0.25 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELP = (
    "from foncier.cli import main\n"
    "try:\n    main(['--help'], prog_name='foncier')\nexcept SystemExit as exc:\n"
    "    raise SystemExit(exc.code)\n"
)
PROBE = (
    "import sys\nfrom foncier.cli import main\n"
    "try:\n    main(['--help'], prog_name='foncier')\nexcept SystemExit:\n    pass\n"
    "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & "
    "{'pandas', 'geopandas', 'shapely', 'pyogrio', 'numpy', 'scipy', 'folium'})), "
    "file=sys.stderr)"
)


def run(code: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    run(HELP, env)  # warm the file cache
    bare, help_ = [], []
    for _ in range(args.repeat):
        bare.append(run("pass", env))
        help_.append(run(HELP, env))
    b, h = statistics.median(bare), statistics.median(help_)
    loaded = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    ).stderr.strip()
    print(f"python -c pass : {b * 1000:7.1f} ms (median of {args.repeat})")
    print(f"foncier --help : {h * 1000:7.1f} ms (median of {args.repeat})")
    print(f"ratio          : {h / b:7.1f}x, difference {1000 * (h - b):.0f} ms")
    print(f"target 0.25 s  : {'meets' if h < 0.25 else 'MISSES'}")
    print(f"data stack loaded by --help: {loaded or 'none'}")


if __name__ == "__main__":
    main()
