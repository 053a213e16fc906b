#!/usr/bin/env python3
"""Turns the measurements scripts/bench collected (a TSV file) into Markdown:
every budget with its limit, the measured value and a verdict, then the
details. Standard library only.

  bench_report.py RESULTS.tsv

Exit status 0 whatever the verdicts: the report is the product, and a budget
missed is a finding to read, not a crash.
"""
import sys
from collections import defaultdict

PAGE_MEDIAN_MS = 5.0
PAGE_P99_MS = 25.0
FIRST_LOAD_BYTES = 250_000
RSS_MB = 30.0
RATIO = 0.3
LIVE_MS = 2000


def verdict(ok):
    return "met" if ok else "**not met**"


def main(path):
    rows = [line.rstrip("\n").split("\t") for line in open(path) if line.strip()]
    by_kind = defaultdict(list)
    for r in rows:
        by_kind[r[0]].append(r)

    out = ["| budget | limit | measured | verdict |", "| --- | --- | --- | --- |"]
    for _, _, _, b in by_kind["first_load"]:
        b = int(b)
        out.append(f"| first load of `/sign-in`, brotli, HTML + CSS + JS + wasm | ≤ 250 KB | {b:,} B | {verdict(b <= FIRST_LOAD_BYTES)} |")
    for _, _, _, mb in by_kind["rss_start"]:
        out.append(f"| resident memory 1 s after start | ≤ 30 MB | {mb} MB | {verdict(float(mb) <= RSS_MB)} |")
    for _, _, backend, mb in by_kind["rss_loaded"]:
        out.append(f"| resident memory after the full sync and the load runs ({backend}) | ≤ 30 MB | {mb} MB | {verdict(float(mb) <= RSS_MB)} |")
    static = {r[2]: r[3].split() for r in by_kind["static"]}
    for _, page, detail, values in by_kind["page"]:
        backend, mode = detail.split()
        med, p99, rps = values.split()
        ok = float(med) < PAGE_MEDIAN_MS and float(p99) < PAGE_P99_MS
        out.append(
            f"| `{page}`, {backend}, {mode} | median < 5 ms, p99 < 25 ms | {med} ms, p99 {p99} ms ({rps} req/s) | {verdict(ok)} |"
        )
        if page == "/?project=AllIncompassing" and mode == "uncached" and backend in static:
            s_rps = float(static[backend][2])
            ratio = float(rps) / s_rps if s_rps else 0.0
            out.append(
                f"| dynamic/static ratio, {backend}: uncached overview {rps} req/s over the CSS file's {static[backend][2]} req/s | ≥ 0.3 (aim) | {ratio:.2f} | {verdict(ratio >= RATIO)} |"
            )
    live = [int(r[3]) for r in by_kind["live"]]
    if live:
        out.append(
            f"| upstream change to the live view's event ({len(live)} rounds, worst) | < 2 s | {max(live)} ms | {verdict(max(live) < LIVE_MS)} |"
        )
    pages = {r[1]: r[3].split() for r in by_kind["pressure_page"]}
    if "loaded" in pages:
        med, p99, rps = pages["loaded"]
        q = pages.get("quiet", ["?", "?", "?"])
        counts = by_kind["pressure_counts"][0][3] if by_kind["pressure_counts"] else ""
        out.append(
            f"| uncached overview while streams stay open and exports run ({counts}) | p99 < 25 ms | {med} ms, p99 {p99} ms ({rps} req/s); alone: {q[0]} ms, p99 {q[1]} ms ({q[2]} req/s) | {verdict(float(p99) < PAGE_P99_MS)} |"
        )
    rss = {r[1]: r[3] for r in by_kind["pressure_rss"]}
    if "peak" in rss:
        out.append(
            f"| resident memory under that pressure, peak (after) | bounded | {rss['peak']} MB ({rss.get('after', '?')} MB) | measured |"
        )
    print("\n".join(out))

    print("\nFirst load, bytes on the wire:\n")
    print("| path | raw | brotli |")
    print("| --- | ---: | ---: |")
    for _, p, _, values in by_kind["asset"]:
        raw, br = values.split()
        print(f"| `{p}` | {int(raw):,} | {int(br):,} |")
    for _, css, backend, values in by_kind["static"]:
        med, p99, rps = values.split()
        print(f"\nStatic `{css}` from the same process ({backend} run): median {med} ms, p99 {p99} ms, {rps} req/s.")
    if live:
        print(f"\nLive view rounds (ms): {', '.join(map(str, live))}.")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
