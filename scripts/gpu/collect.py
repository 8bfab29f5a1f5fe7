#!/usr/bin/env python3
"""Device side: gathers a bench's result folder into $OUT (at most two files, as the device tool brings back few).

  python3 scripts/gpu/collect.py RESULTS_DIR OUT_DIR NAME [--extra FILE ...]
writes OUT_DIR/NAME-results.json (every RESULTS_DIR/*.json by file name, the *.done step records under "steps", and a
"summary" of the engine benches and output comparisons found) and OUT_DIR/NAME-logs.txt (the *.log files, and any
--extra files, without the CLI's per-step progress lines, the last 20,000 characters of each); prints the summary.
"""
import argparse
import glob
import json
import os


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results")
    p.add_argument("out")
    p.add_argument("name")
    p.add_argument("--extra", nargs="*", default=[], help="more text files for the log (e.g. gpu.txt)")
    a = p.parse_args()
    res = {}
    for f in sorted(glob.glob(os.path.join(a.results, "*.json"))):
        try:
            res[os.path.basename(f)[:-5]] = json.load(open(f))
        except Exception as e:  # noqa: BLE001 - a half-written file is reported, not fatal
            res[os.path.basename(f)] = str(e)
    for f in sorted(glob.glob(os.path.join(a.results, "*.done"))):
        try:
            res.setdefault("steps", {})[os.path.basename(f)[:-5]] = json.load(open(f))
        except Exception:  # noqa: BLE001
            pass
    summary = {}
    for name, b in res.items():
        if isinstance(b, dict) and "unet_per_step_milliseconds" in b:
            summary[name] = {"unet_ms_per_step": round(b["unet_per_step_milliseconds"], 2), "batch": b.get("batch"),
                             "image_ms": round(b.get("mean_milliseconds", {}).get("total", 0), 1),
                             "images_per_s": round(b.get("images_per_second", 0), 2)}
    compare = res.get("compare")
    for name, c in (compare.get("candidates", {}) if isinstance(compare, dict) else {}).items():
        summary.setdefault("vs_fp32", {})[name] = {k: c.get(k) for k in ("max_abs_diff", "rel_l2", "finite", "error") if k in c}
    if summary:
        res["summary"] = summary
    for name, v in summary.items():
        print(f"{name}: {v}")
    with open(os.path.join(a.out, f"{a.name}-results.json"), "w") as f:
        json.dump(res, f, indent=2)
    with open(os.path.join(a.out, f"{a.name}-logs.txt"), "w") as o:
        for f in sorted(glob.glob(os.path.join(a.results, "*.log"))) + [e for e in a.extra if os.path.exists(e)]:
            text = open(f, errors="replace").read().replace("\r", "\n")
            kept = "\n".join(line for line in text.splitlines() if not line.startswith("step "))
            o.write(f"===== {os.path.basename(f)}\n{kept[-20000:]}\n")


if __name__ == "__main__":
    main()
