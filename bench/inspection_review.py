"""Plan review benchmark: ``inspection_review.review`` over a county-scale year, in process (issue 4).

Generates a seeded year of plans (``bench/_inspection_data.py``: 10,000 items over 1,000 townships by default, 28
departments, 35 topic families with paraphrases, items for every township and for areas of the county, trace demands
and data fields as departments write them, a filled data catalog), then reviews it ``--rounds`` times and prints:

- wall and CPU seconds of ``review`` (median of the rounds) and PASS/FAIL against the issue's target:

      review of 10,000 plan items over 1,000 townships in < 10 s;

- flag counts per rule, notes, items flagged, and how many candidate pairs the prefix-filtered index scored against
  the n(n-1)/2 pairs an all-pairs comparison would score;
- baselines measured in the same run: (1) tokenising every topic (canonical text, normalisation, bigrams: the least any
  text similarity must do) and (2) an all-pairs scan with the same score, timed on a random sample of pairs and
  extrapolated to all pairs; the review's ratio to each;
- quality against the generator's truth: how many of the pieces filed on purpose (拆包分包) are flagged as splits, how
  many flagged duplicate pairs are of one topic family, and the trace demands and data fields found.

    python bench/inspection_review.py                     # 10,000 items, 1,000 townships, 3 rounds
    python bench/inspection_review.py --items 2000 --townships 200 --rounds 5

Exit status 0 = PASS, 1 = FAIL.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

# ``python bench/x.py`` puts bench/ first on sys.path, where bench/http.py would shadow the standard library's
# ``http``; seek modules from the repository root instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench import _inspection_data as data  # noqa: E402
from bench._timing import timed  # noqa: E402
from gongzhi.engines import inspection_review as ir  # noqa: E402

TARGET_S = 10.0


def tokenise(year: data.Year) -> int:
    names = {it.department_name for it in year.items}
    import re

    names_re = re.compile("|".join(map(re.escape, sorted(names, key=len, reverse=True))))
    return sum(len(ir.bigrams(ir.topic_norm(it.topic, names_re))) for it in year.items)


def all_pairs_estimate(year: data.Year, sample: int, seed: int) -> tuple[float, int]:
    """Seconds per pair of an all-pairs scan (same vectors, same score, same window/target checks), on a sample."""
    run = ir._Review(year.items, year.townships, {}, ir.ReviewRules())
    items = run.items
    rng = random.Random(seed)
    pairs = [(rng.randrange(len(items)), rng.randrange(len(items))) for _ in range(sample)]
    hits = 0
    t = time.perf_counter()
    for a, b in pairs:
        x, y = items[a], items[b]
        if x is y:
            continue
        lo, hi = max(x.s, y.s), min(x.e, y.e)
        tx, ty = x.src.targets, y.src.targets
        if tx is not None and ty is not None and tx.isdisjoint(ty):
            continue
        xs, ys = (x, y) if x.mass <= y.mass else (y, x)
        shared = sum(v * ys.vec.get(g, 0.0) for g, v in xs.vec.items())
        score = shared / math.sqrt(math.sqrt(xs.mass**3 * ys.mass)) if shared else 0.0
        hits += score >= 0.4 and hi >= lo
    return (time.perf_counter() - t) / sample, hits


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--townships", type=int, default=1_000)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pair-sample", type=int, default=300_000, help="pairs timed for the all-pairs estimate")
    args = ap.parse_args(argv)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    cpus = os.cpu_count() or 1
    print(
        f"Plan review bench — python {sys.version.split()[0]}, load average {load:.2f} on {cpus} CPUs"
        + (" (busy: figures will be noisy)" if load > 0.75 * cpus else "")
    )
    t = time.perf_counter()
    year = data.generate(args.items, args.townships, args.seed)
    gen_s = time.perf_counter() - t
    n = len(year.items)
    onsite = [it for it in year.items if it.onsite]
    n_all = sum(1 for it in year.items if it.targets is None)
    demands = sum(len(year.townships) if it.targets is None else len(it.targets) for it in onsite)
    print(
        f"input: {n:,} items from {len({it.department for it in year.items})} departments over "
        f"{len(year.townships):,} townships (seed {args.seed}; generated in {gen_s:.2f} s); {len(onsite):,} on site, "
        f"{n_all} for every township, {demands:,} on-site township demands "
        f"({demands / len(year.townships):.0f} per township); catalog: "
        f"{sum(len(v) for v in year.held.values()):,} fields held"
    )

    tok_w, _tok_cpu, _ = timed(lambda: tokenise(year), args.rounds)
    wall, cpu, res = timed(
        lambda: ir.review(year.items, townships=year.townships, held=year.held), args.rounds
    )
    assert res is not None
    per_pair, _hits = all_pairs_estimate(year, args.pair_sample, args.seed)
    all_pairs = n * (n - 1) // 2
    scan_s = per_pair * all_pairs

    print(
        f"\nreview: {wall:.2f} s wall, {cpu:.2f} s CPU (median of {args.rounds}) — target < {TARGET_S:.0f} s"
    )
    print(f"  baseline 1, tokenise every topic: {tok_w:.2f} s → review / tokenise = {wall / tok_w:.1f}×")
    print(
        f"  baseline 2, all-pairs scan with the same score: {per_pair * 1e6:.2f} µs per pair × {all_pairs:,} pairs "
        f"≈ {scan_s:.0f} s → review is {scan_s / wall:.0f}× faster"
    )
    cand = res.stats["candidate_pairs"]
    print(f"  pairs scored by the index: {cand:,} ({cand / all_pairs:.2%} of all pairs)")

    counts = res.counts()
    print("\nflags:")
    for rule in ir.RULES:
        print(f"  {rule:<20} {counts[rule]:>7,}")
    print(f"  {'notes (trace + basis)':<20} {len(res.notes):>7,}")
    print(f"  items flagged: {res.stats['items_flagged']:,} of {n:,}")
    over = [f for f in res.flags if f.rule == "over_quota"]
    print(
        "  over quota by period: "
        + ", ".join(
            f"{c} {sum(1 for f in over if f.code == c):,}" for c in ("over_quota_quarter", "over_quota_year")
        )
    )

    # Quality against the generator's truth.
    split_items = {f.item for f in res.flags if f.rule == "split"}
    found_pieces = len(year.pieces & split_items)
    dup_pairs = {
        (min(f.item, o), max(f.item, o))
        for f in res.flags
        if f.rule in ("duplicate", "near_duplicate")
        for o in f.others
    }
    same_family = sum(1 for a, b in dup_pairs if year.family[a] == year.family[b])
    traces = sum(1 for it in year.items for m in it.materials if m.name in data.TRACE_MATERIALS)
    flagged_traces = sum(f.params["count"] for f in res.flags if f.rule == "trace_demand") + sum(
        f.params["count"] for f in res.notes
    )
    print("\nquality (against the generator's truth):")
    print(f"  split pieces filed on purpose flagged as splits: {found_pieces}/{len(year.pieces)}")
    print(
        f"  duplicate pairs within one topic family: {same_family}/{len(dup_pairs)} "
        "(the rest pair a generic topic with a specific one of a neighbouring family, e.g. 安全生产 / 商贸领域安全生产)"
    )
    print(
        f"  trace materials found: {flagged_traces}/{traces} (refused {counts['trace_demand']} items, noted "
        f"{len(res.notes)})"
    )

    ok = wall < TARGET_S
    print(f"\n{'PASS' if ok else 'FAIL'}: review {wall:.2f} s (target < {TARGET_S:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
