#!/usr/bin/env python3
"""Summarise a grid's stage ledger: wall time and peak RSS per kind of stage.

Usage: stage_times.py RUN_DIR_OR_RECORDS  (reads the stage ledger, RUN/.stages/*.json
in a run directory or RECORDS/stages/*.json in scripts/grid_records.sh's copy). Groups stages by their command and method, e.g.
`unlearn/graddiff`, `eval`, `attack`, `mia`, and prints a Markdown table with the
count, the shortest, longest and summed wall time, and the largest peak RSS.
Times are as measured, so stages that shared the cores with others read longer.
"""
import glob
import json
import os
import re
import sys


def group_of(name):
    # stage file names are <command>_<model>-<level>.json or <command>_<name>.json
    cmd, _, rest = name.partition("_")
    if cmd == "unlearn":
        method = re.sub(r"-(institution|patient|study|section)$", "", rest)
        return f"unlearn/{method}"
    return cmd


def fmt(seconds):
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min" if h else (f"{m} min {s:02d} s" if m else f"{s} s")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    files = []
    for ledger in (".stages", "stages"):
        files = files or sorted(glob.glob(os.path.join(sys.argv[1], ledger, "*.json")))
    if not files:
        sys.exit(f"no stage ledger (.stages/ or stages/) under {sys.argv[1]}")
    groups = {}
    for path in files:
        rec = json.load(open(path))
        if rec.get("state") != "done":
            continue
        g = groups.setdefault(group_of(os.path.basename(path)[:-5]), [])
        g.append((rec["seconds"], rec.get("peak_rss_mib", 0.0)))
    print("| stage | count | shortest | longest | total | peak RSS |")
    print("|---|---|---|---|---|---|")
    total = 0.0
    for name in sorted(groups):
        secs = [s for s, _ in groups[name]]
        total += sum(secs)
        rss = max(r for _, r in groups[name])
        print(f"| {name} | {len(secs)} | {fmt(min(secs))} | {fmt(max(secs))} | "
              f"{fmt(sum(secs))} | {rss:,.0f} MiB |")
    print(f"| all | {sum(len(g) for g in groups.values())} | | | {fmt(total)} | |")


if __name__ == "__main__":
    main()
