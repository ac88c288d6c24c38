"""``python -m loyalty.bench`` (``make bench SCALE=…``): the extraction benchmark, then the pipeline
benchmark; their figures as JSON at the end."""

from __future__ import annotations

import argparse
import json
import sys

from loyalty.bench import extraction, pipeline


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m loyalty.bench")
    p.add_argument("--scale", default="medium", choices=list(extraction.SCALES))
    p.add_argument("--only", choices=["extract", "dbt", "gates"], default=None,
                   help="extract: the extraction benchmark only; dbt or gates: the pipeline benchmark only")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    results: dict[str, object] = {}
    if args.only in (None, "extract"):
        results["extract"] = extraction.bench_extract(args.scale)
    if args.only in (None, "dbt", "gates"):
        results.update(pipeline.run(args.scale))
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
