#!/usr/bin/env python3
"""Where a job's time in the step loop goes, from serving-bench.sh's run logs (runs-MODE.log, the web app's
"Joinable run: … ended … [loop …, join …, unet …]" lines): image-weighted means over every group that ended in the
busiest load of each mode: the joinable runs with joiners around the one with the most (at the default RUNS, the
depth-8 load; a load may end and start runs when the loop runs dry), as a markdown table; then, from the step loop's
own reports in the same lines, how much of its wall time it was stepping, waiting for joiners, in UNet calls, and how
many images a UNet call held.

  python3 scripts/gpu/loop-life.py RESULTS_DIR MODE [MODE ...]
"""
import re
import sys

# the step loop's parts, then (since 2026-12-07 23:30) where each job's time in the worker went: ready_wait (queue → engine),
# in_engine (engine → outcome), to_saved (outcome → saved); absent from older logs (0)
KEYS = ["loop", "unet", "join", "advance", "leave", "tensor_io", "ready_wait", "in_engine", "to_saved"]


def busiest_load(path: str) -> list[str]:
    """The log lines of the mode's busiest load (empty if it ran no joinable run)."""
    lines = open(path).read().splitlines()
    runs = [i for i, line in enumerate(lines) if line.startswith("Joinable run of")]
    if not runs:
        return []
    # a run's "Joinable run of" line follows its groups; the load's runs are those with joiners next to the busiest
    busiest = max(runs, key=lambda i: int(re.search(r"\((\d+) joined", lines[i]).group(1)))
    alone = [i for i in runs if "(0 joined" in lines[i]]
    start = max([i for i in alone if i < busiest], default=-1) + 1
    end = min([i for i in alone if i > busiest], default=len(lines))
    return lines[start:end]


def occupancy(lines: list[str]) -> dict[str, float]:
    """The step loop's own reports (since 2026-12-08: "Joinable run's step loop: W ms, stepping S %, waiting for joiners
    J %, UNet U %, N steps, I images a step") summed over the load, and the runs' engine passes."""
    wall = stepping = waiting = unet = steps = image_steps = side = 0.0
    for line in lines:
        m = re.search(r"step loop: ([0-9.]+) ms, stepping ([0-9.]+) %, waiting for joiners ([0-9.]+) %, UNet ([0-9.]+) %, "
                      r"(\d+) steps, ([0-9.]+) images a step", line)
        if not m:
            continue
        w = float(m.group(1))
        wall += w
        stepping += w * float(m.group(2)) / 100
        waiting += w * float(m.group(3)) / 100
        unet += w * float(m.group(4)) / 100
        steps += int(m.group(5))
        image_steps += int(m.group(5)) * float(m.group(6))
        if (busy := re.search(r"side thread busy ([0-9.]+) %", line)):  # (since 2026-12-08 01:50)
            side += w * float(busy.group(1)) / 100
    runs = [line for line in lines if line.startswith("Joinable run of")]
    passes = sum(int(m.group(1)) for line in runs if (m := re.search(r"(\d+) engine passes", line)))
    run_ms = sum(float(m.group(1)) for line in runs if (m := re.search(r"\): ([0-9.]+) ms", line)))
    if not wall:
        return {}
    return {"loop_s": wall / 1000, "runs_s": run_ms / 1000, "runs": len(runs), "passes": passes,
            "stepping": 100 * stepping / wall, "waiting": 100 * waiting / wall, "unet": 100 * unet / wall,
            "steps": steps, "images_a_step": image_steps / steps if steps else 0.0, "side_busy": 100 * side / wall,
            "step_ms": stepping / steps if steps else 0.0}


def life(path: str) -> tuple[dict[str, float], int]:
    totals, images = {k: 0.0 for k in KEYS}, 0
    for line in busiest_load(path):
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
    occ = {mode: occupancy(busiest_load(f"{folder}/runs-{mode}.log")) for mode in modes}
    if any(occ.values()):
        cols = ["loop_s", "runs_s", "runs", "passes", "stepping", "waiting", "unet", "steps", "images_a_step", "step_ms", "side_busy"]
        print()
        print("The step loop's own account of the same load (wall s in loop reports and in runs; % of the loop's wall):")
        print("| mode | " + " | ".join(cols) + " |")
        print("|---|" + "---:|" * len(cols))
        for mode, o in occ.items():
            if o:
                print(f"| `{mode}` | " + " | ".join(f"{o[c]:.0f}" if c in ("runs", "passes", "steps") else f"{o[c]:.2f}" if c == "step_ms" else f"{o[c]:.1f}" for c in cols) + " |")


if __name__ == "__main__":
    main()
