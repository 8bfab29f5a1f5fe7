#!/usr/bin/env python3
"""Speaks AUTOMATIC1111's API to a running DiffusionGallery as A1111 clients do (standard library only).

Registers an account through the sign-up form, creates a personal access token with POST /api/tokens (cookie),
then, with HTTP Basic (e-mail + token) only: lists samplers and models, runs txt2img N times, checks that every
PNG's `parameters` chunk equals the matching `infotexts` entry of `info`, round-trips one PNG through png-info,
and prints timings.

    scripts/a1111-smoke.py http://127.0.0.1:5122 --calls 10 --steps 25
"""
import argparse, base64, http.cookiejar, json, re, struct, sys, time, urllib.parse, urllib.request, uuid, zlib

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
    ap.add_argument("--calls", type=int, default=10)
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--prompt", default="a red circle on a blue background")
    args = ap.parse_args()
    base = args.base.rstrip("/") + "/"
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    client = urllib.request.build_opener()  # no cookies: Basic credentials only

    def call(opener, method, path, body=None, form=None, headers=None):
        data, h = None, dict(headers or {})
        if body is not None:
            data, h["Content-Type"] = json.dumps(body).encode(), "application/json"
        if form is not None:
            data, h["Content-Type"] = urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
        req = urllib.request.Request(base + path, data=data, method=method, headers=h)
        with opener.open(req, timeout=600) as resp:
            return resp.status, resp.read()

    _, page = call(browser, "GET", "Account/Register")
    anti = re.search(rb'name="__RequestVerificationToken" value="([^"]+)"', page).group(1).decode()
    email, password = f"a1111-{uuid.uuid4().hex[:12]}@example.test", "smoke test passphrase"
    call(browser, "POST", "Account/Register", form={"__RequestVerificationToken": anti, "_handler": "register",
         "Input.Email": email, "Input.Password": password, "Input.ConfirmPassword": password})
    status, created = call(browser, "POST", "api/tokens", body={"name": "a1111-smoke"})
    assert status == 201, status
    token = json.loads(created)["token"]
    auth = {"Authorization": "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode(), "User-Agent": "a1111-smoke/1.0"}

    samplers = [s["name"] for s in json.loads(call(client, "GET", "sdapi/v1/samplers", headers=auth)[1])]
    models = json.loads(call(client, "GET", "sdapi/v1/sd-models", headers=auth)[1])
    print(f"samplers: {', '.join(samplers)}; models: {', '.join(m['title'] for m in models)}")

    timings, images = [], 0
    started = time.perf_counter()
    for i in range(args.calls):
        t0 = time.perf_counter()
        status, body = call(client, "POST", "sdapi/v1/txt2img", headers=auth, body={
            "prompt": args.prompt, "steps": args.steps, "seed": 1000 + i, "sampler_name": "DPM++ 2M", "scheduler": "Karras",
            "batch_size": args.batch, "width": 128, "height": 128, "restore_faces": False, "enable_hr": False})
        timings.append(time.perf_counter() - t0)
        assert status == 200, status
        result = json.loads(body)
        info = json.loads(result["info"])
        for k, encoded in enumerate(result["images"]):
            png = base64.b64decode(encoded)
            assert png_text_chunks(png)["parameters"] == info["infotexts"][k], "parameters chunk differs from info"
            assert f"Seed: {info['all_seeds'][k]}," in info["infotexts"][k]
            images += 1
    elapsed = time.perf_counter() - started

    status, body = call(client, "POST", "sdapi/v1/png-info", headers=auth, body={"image": "data:image/png;base64," + result["images"][0]})
    assert json.loads(body)["info"] == info["infotexts"][0]
    timings.sort()
    print(f"{args.calls} txt2img calls, {images} images, {args.steps} steps at 128x128: {elapsed:.2f} s total; "
          f"per call median {timings[len(timings) // 2]:.3f} s, min {timings[0]:.3f} s, max {timings[-1]:.3f} s; png-info round trip ok")
    return 0

if __name__ == "__main__":
    sys.exit(main())
