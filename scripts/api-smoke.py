#!/usr/bin/env python3
"""Drives a running DiffusionGallery over its public HTTP surface (standard library only) and prints timings.

Registers an account through the real sign-up form (antiforgery token included), then submits N jobs to
POST /api/generations with the session cookie, polls GET /api/generations/{id} until each finishes, and
downloads every PNG to check its A1111 `parameters` chunk.

    scripts/api-smoke.py http://127.0.0.1:5122 --jobs 10 --steps 25
"""
import argparse, http.cookiejar, json, re, struct, sys, time, urllib.error, urllib.parse, urllib.request, uuid, zlib

def png_text_chunks(data: bytes) -> dict:
    out, pos = {}, 8
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            out[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\0")
            compressed, rest = rest[0], rest[2:]
            _, _, rest = rest.partition(b"\0")
            _, _, rest = rest.partition(b"\0")
            out[key.decode("latin-1")] = (zlib.decompress(rest) if compressed else rest).decode("utf-8")
        if kind == b"IEND":
            break
        pos += 12 + length
    return out

def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("--jobs", type=int, default=10)
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--prompt", default="a red circle on a blue background")
    args = ap.parse_args()
    base = args.base.rstrip("/") + "/"
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def call(method, path, body=None, form=None):
        data, headers = None, {}
        if body is not None:
            data, headers = json.dumps(body).encode(), {"Content-Type": "application/json"}
        if form is not None:
            data, headers = urllib.parse.urlencode(form).encode(), {"Content-Type": "application/x-www-form-urlencoded"}
        req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
        with opener.open(req, timeout=120) as resp:
            return resp.status, resp.read()

    _, page = call("GET", "Account/Register")
    token = re.search(rb'name="__RequestVerificationToken" value="([^"]+)"', page).group(1).decode()
    email, password = f"smoke-{uuid.uuid4().hex[:12]}@example.test", "smoke test passphrase"
    call("POST", "Account/Register", form={"__RequestVerificationToken": token, "_handler": "register",
         "Input.Email": email, "Input.Password": password, "Input.ConfirmPassword": password})

    started = time.perf_counter()
    jobs = []
    for i in range(args.jobs):
        while True:  # the per-user queue limit answers 429; wait for a slot like a well-behaved client
            try:
                status, body = call("POST", "api/generations", body={"prompt": args.prompt, "steps": args.steps, "seed": 1000 + i})
                break
            except urllib.error.HTTPError as error:
                if error.code != 429:
                    raise
                time.sleep(0.2)
        assert status == 202, (status, body)
        jobs.append(json.loads(body)["id"])
    results = {}
    while len(results) < len(jobs):
        for job in jobs:
            if job in results:
                continue
            job_state = json.loads(call("GET", f"api/generations/{job}")[1])
            if job_state["state"] in ("Succeeded", "Failed", "Cancelled"):
                results[job] = job_state
        time.sleep(0.05)
    elapsed = time.perf_counter() - started

    ok = 0
    for job, job_state in results.items():
        if job_state["state"] != "Succeeded":
            print("job", job, job_state["state"], job_state.get("error"))
            continue
        png = call("GET", job_state["images"][0]["png"].lstrip("/"))[1]
        params = png_text_chunks(png).get("parameters", "")
        ok += params.startswith(args.prompt) and f"Steps: {args.steps}" in params
    print(json.dumps({"jobs": len(jobs), "succeeded_with_parameters": ok, "steps": args.steps,
                      "wall_seconds": round(elapsed, 3), "seconds_per_image": round(elapsed / len(jobs), 3)}))
    return 0 if ok == len(jobs) else 1

if __name__ == "__main__":
    sys.exit(main())
