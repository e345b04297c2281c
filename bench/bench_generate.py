"""Benchmark of the synthetic generator: wall time, output size and peak memory."""

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import synthetic  # noqa: E402 - after the path tweak so the checkout is importable


def folder_size(path: Path) -> int:
    """Total bytes of the files under a folder."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    """Generate a province of --persons persons and report time, size and peak memory."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write (default: a temporary folder, removed afterwards)")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args(argv)
    tmp = None
    root = args.out
    if root is None:
        tmp = tempfile.mkdtemp(prefix="quotalink-bench-")
        root = Path(tmp)
    try:
        start = time.perf_counter()
        summary = synthetic.generate(root / "sources", root / "truth", persons=args.persons,
                                     seed=args.seed, progress=args.progress)
        seconds = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result = {
            "persons": args.persons,
            "seconds": round(seconds, 1),
            "persons_per_second": round(args.persons / seconds),
            "sources_mb": round(folder_size(root / "sources") / 2**20, 1),
            "truth_mb": round(folder_size(root / "truth") / 2**20, 1),
            "peak_rss_mb": round(peak_mb),
            "ac08_rows": summary["deliveries"]["hr"]["hr.db:ac08"],
            "person_mentions": summary["person_mentions"],
            "fraud_cases": summary["fraud_cases"],
        }
        print(json.dumps(result, ensure_ascii=False))
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
