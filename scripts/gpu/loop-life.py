#!/usr/bin/env python3
"""Where a job's time in the step loop goes, from serving-bench.sh's run logs (runs-MODE.log, the web app's
"Joinable run: … ended … [loop …, join …, unet …]" lines): image-weighted means over every group that ended in the
busiest load of each mode: the joinable runs with joiners around the one with the most (at the default RUNS, the
depth-8 load; a load may end and start runs when the loop runs dry), as a markdown table.

  python3 scripts/gpu/loop-life.py RESULTS_DIR MODE [MODE ...]
"""
import re
import sys

# the step loop's parts, then (since 2026-12-07 23:30) where each job's time in the worker went: ready_wait (queue → engine),
# in_engine (engine → outcome), to_saved (outcome → saved); absent from older logs (0)
KEYS = ["loop", "unet", "join", "advance", "leave", "tensor_io", "ready_wait", "in_engine", "to_saved"]


def life(path: str) -> tuple[dict[str, float], int]:
    lines = open(path).read().splitlines()
    runs = [i for i, line in enumerate(lines) if line.startswith("Joinable run of")]
    if not runs:
        return {}, 0
    # a run's "Joinable run of" line follows its groups; the load's runs are those with joiners next to the busiest
    busiest = max(runs, key=lambda i: int(re.search(r"\((\d+) joined", lines[i]).group(1)))
    alone = [i for i in runs if "(0 joined" in lines[i]]
    start = max([i for i in alone if i < busiest], default=-1) + 1
    end = min([i for i in alone if i > busiest], default=len(lines))
    totals, images = {k: 0.0 for k in KEYS}, 0
    for line in lines[start:end]:
        if "ended" not in line:
            continue
        n = int(re.search(r"\((\d+) images\)", line).group(1))
        images += n
        for k in KEYS:
            found = re.search(rf"\b{k} ([0-9.]+)", line)
            totals[k] += (float(found.group(1)) if found else 0.0) * n
    return ({k: v / images for k, v in totals.items()} if images else {}), images


def main() -> None:
    folder, modes = sys.argv[1], sys.argv[2:]
    print("| mode | " + " | ".join(KEYS) + " | images |")
    print("|---|" + "---:|" * (len(KEYS) + 1))
    for mode in modes:
        means, images = life(f"{folder}/runs-{mode}.log")
        if images:
            print(f"| `{mode}` | " + " | ".join(f"{means[k]:.1f}" for k in KEYS) + f" | {images} |")


if __name__ == "__main__":
    main()
