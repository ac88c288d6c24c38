"""``python -m loyalty.bench`` (``make bench SCALE=…``): the extraction benchmark, then the pipeline
benchmark; their figures as JSON, then every target's figure beside its target. ``--scale all``:
small, medium and large in one run (the ratios of one run, one table at the end)."""

from __future__ import annotations

import argparse
import json
import sys

from loyalty.bench import extraction, pipeline


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m loyalty.bench")
    p.add_argument("--scale", default="medium", choices=[*extraction.SCALES, "all"])
    p.add_argument("--only", choices=["extract", "dbt", "gates"], default=None,
                   help="extract: the extraction benchmark only; dbt or gates: the pipeline benchmark only")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    scales = list(extraction.SCALES) if args.scale == "all" else [args.scale]
    results: dict[str, dict[str, object]] = {}
    for scale in scales:
        results[scale] = {}
        if args.only in (None, "extract"):
            results[scale]["extract"] = extraction.bench_extract(scale)
        if args.only in (None, "dbt", "gates"):
            results[scale].update(pipeline.run(scale))
    print(json.dumps(results if len(scales) > 1 else results[scales[0]], indent=1))
    pipeline.print_targets({s: r["pipeline"] for s, r in results.items() if "pipeline" in r})  # type: ignore[misc]
    return 0


if __name__ == "__main__":
    sys.exit(main())
