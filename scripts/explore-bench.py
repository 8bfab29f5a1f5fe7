#!/usr/bin/env python3
"""Explore benchmark: seeds N public images into a running DiffusionGallery's SQLite file and measures the first page
of GET /api/explore for every sort and period, reading the server's own time from the Server-Timing header.

Registers --users accounts through the real sign-up form (so they get handles), inserts --images Public images owned
by them (prompts from a small vocabulary, dates over 30 days, likes and remix parents at random) straight into the
database, then asks each query --repeat times after a warm-up and prints median and p95 server time (and the wall time
seen by this client). Standard library only.

    scripts/explore-bench.py http://127.0.0.1:5391 --db /tmp/bench/app.db --images 10000
"""
import argparse, http.cookiejar, json, random, re, sqlite3, statistics, time, urllib.parse, urllib.request, uuid

WORDS = "red blue green yellow purple white black orange circle square triangle star heart hexagon small big sunset sky sea " \
        "gradient background top bottom left right center over on a the".split()
SAMPLERS = ["EulerAncestral", "Euler", "DpmPlusPlus2M", "Ddim", "Lms"]


def register(base: str, email: str, password: str) -> None:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(base + "Account/Register", timeout=60).read()
    token = re.search(rb'name="__RequestVerificationToken" value="([^"]+)"', page).group(1).decode()
    form = {"__RequestVerificationToken": token, "_handler": "register", "Input.Email": email, "Input.Password": password, "Input.ConfirmPassword": password}
    opener.open(urllib.request.Request(base + "Account/Register", data=urllib.parse.urlencode(form).encode()), timeout=60).read()


def seed(db_path: str, owners: list, count: int, rng: random.Random) -> None:
    now_ticks = (int(time.time() * 10_000_000)) + 621_355_968_000_000_000  # .NET UTC ticks
    day = 24 * 3600 * 10_000_000
    ids = []
    rows = []
    for i in range(count):
        image_id = str(uuid.uuid4()).upper()
        prompt = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 9)))
        parent = rng.choice(ids) if ids and rng.random() < 0.3 else None
        ids.append(image_id)
        rows.append((image_id, rng.choice(owners), rng.randint(0, 2**31), 128, 128, "tiny-shapes", "", "CPU", prompt, "0" * 64, 1000,
                     "Public", uuid.uuid4().hex + uuid.uuid4().hex[:0], parent, now_ticks - rng.randint(0, 30 * day), 1, 7.0, 128, "tiny-shapes", "",
                     prompt, rng.choice(SAMPLERS), 1, rng.choice([20, 25, 30]), 1.0, 128, 0, 1, 0, int(rng.paretovariate(1.5)) - 1))
    with sqlite3.connect(db_path, timeout=30) as db:
        db.executemany(
            'INSERT INTO GeneratedImages (Id, OwnerId, Seed, GeneratedImage_Width, GeneratedImage_Height, ModelName, ModelHash, ExecutionProvider, '
            'ParametersText, FileHash, FileSize, Visibility, ShareToken, ParentImageId, CreatedAt, BatchCount, GuidanceScale, Height, Model, '
            'NegativePrompt, Prompt, Sampler, BaseSeed, Steps, Temperature, Width, KarrasSigmas, AllowRemix, HidePrompt, LikeCount) '
            'VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)', rows)
        db.execute("ANALYZE")


def measure(base: str, query: str, repeat: int) -> tuple:
    server, wall = [], []
    for i in range(repeat + 3):
        started = time.perf_counter()
        with urllib.request.urlopen(base + "api/explore?" + query, timeout=60) as response:
            body = json.loads(response.read())
            timing = response.headers.get("Server-Timing", "")
        elapsed = (time.perf_counter() - started) * 1000
        if i >= 3:  # warm-up
            server.append(float(re.search(r"dur=([0-9.]+)", timing).group(1)))
            wall.append(elapsed)
    return server, wall, body["total"], len(body["items"])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("--db", required=True, help="the running app's SQLite file (Database:ConnectionString)")
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--settle", type=int, default=35, help="seconds to wait for RemixCounts (refreshes every 30 s)")
    args = ap.parse_args()
    base = args.base.rstrip("/") + "/"
    rng = random.Random(args.seed)
    tag = uuid.uuid4().hex[:8]
    emails = [f"bench-{tag}-{i}@example.test" for i in range(args.users)]
    for email in emails:
        register(base, email, "benchmark passphrase")
    with sqlite3.connect(args.db, timeout=30) as db:
        owners = [row[0] for row in db.execute(f"SELECT Id FROM AspNetUsers WHERE Email IN ({','.join('?' * len(emails))})", emails)]
    seed(args.db, owners, args.images, rng)
    print(f"seeded {args.images} public images for {len(owners)} users; waiting {args.settle} s for the background remix-count refresh")
    time.sleep(args.settle)
    print(f"{'query':42} {'server median':>14} {'server p95':>11} {'wall median':>12}  total  items")
    worst = 0.0
    for query in ["sort=newest&period=all", "sort=likes&period=all", "sort=remixes&period=all",
                  "sort=newest&period=week", "sort=likes&period=week", "sort=remixes&period=week",
                  "sort=newest&search=red%20circle", "sort=likes&search=red", "sort=newest&search=sun",
                  "sort=likes&model=tiny-shapes"]:
        server, wall, total, items = measure(base, query + "&pageSize=24", args.repeat)
        p95 = sorted(server)[int(0.95 * (len(server) - 1))]
        worst = max(worst, statistics.median(server))
        print(f"{query:42} {statistics.median(server):11.2f} ms {p95:8.2f} ms {statistics.median(wall):9.2f} ms {total:6} {items:6}")
    print(f"worst median first page: {worst:.2f} ms (target <= 50 ms)")
    return 0 if worst <= 50 else 1


if __name__ == "__main__":
    raise SystemExit(main())
