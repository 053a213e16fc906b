#!/usr/bin/env python3
"""Helpers for scripts/bench, standard library only, loopback only.

  bench_client.py cookie BASE LOGIN
      signs in through the sandbox's GitHub page; prints the Cookie header
  bench_client.py wait-synced BASE COOKIE
      waits until the overview shows what staging serves (the first sync)
  bench_client.py live-deploy BASE COOKIE
      prints the path of the deploy page of what staging serves
  bench_client.py live BASE COOKIE ROUNDS
      upstream change -> page: starts the deploy job in the sandbox, waits
      until Greenroom follows the run, opens the live stream, moves the
      sandbox clock, and times the first event; prints one line per round
  bench_client.py pressure BASE COOKIE STREAMS EXPORTERS SECONDS
      holds STREAMS live-view streams open and has EXPORTERS clients each
      downloading the history export over and over (again 0.5 s after a
      429) for SECONDS; prints what was opened, refused and downloaded
"""
import asyncio
import http.cookiejar
import json
import sys
import time
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def opener(jar, follow=True):
    handlers = [urllib.request.HTTPCookieProcessor(jar)]
    if not follow:
        handlers.append(NoRedirect())
    return urllib.request.build_opener(*handlers)


def location(op, url, data=None):
    try:
        op.open(url, data=data, timeout=10)
    except urllib.error.HTTPError as e:
        if e.code in (302, 303):
            return e.headers["Location"]
        raise
    raise SystemExit(f"expected a redirect from {url}")


def cookie(base, login):
    jar = http.cookiejar.CookieJar()
    op = opener(jar, follow=False)
    authorize = location(op, f"{base}/auth/login")
    u = urllib.parse.urlsplit(authorize)
    form = dict(urllib.parse.parse_qsl(u.query))
    form["login"] = login
    action = urllib.parse.urlunsplit((u.scheme, u.netloc, u.path, "", ""))
    callback = location(op, action, urllib.parse.urlencode(form).encode())
    location(op, callback)
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def get_json(base, path, cookie_header):
    req = urllib.request.Request(base + path, headers={"Cookie": cookie_header})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def wait_synced(base, cookie_header):
    for _ in range(600):
        try:
            o = get_json(base, "/api/overview?project=AllIncompassing", cookie_header)
            if o.get("staging"):
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise SystemExit("the first sync did not finish in 120 s")


def post_json(url, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status


def live(base, cookie_header, rounds):
    sandbox = get_json(base, "/api/status", cookie_header)["sandbox_url"]
    for n in range(rounds):
        post_json(
            f"{sandbox}/github/repos/allincompassing/allincompassing/actions/workflows/ci.yml/dispatches",
            {"ref": "develop"},
            token="bench",
        )
        # Wait for a full pass to see the run in progress.
        for _ in range(300):
            o = get_json(base, "/api/overview?project=AllIncompassing", cookie_header)
            job = o.get("deploy_job") or {}
            if job.get("status") not in (None, "completed"):
                break
            time.sleep(0.1)
        else:
            raise SystemExit("sync did not pick up the dispatched run")
        time.sleep(1.5)
        mark = get_json(base, "/api/overview?project=AllIncompassing", cookie_header)["mark"]
        req = urllib.request.Request(
            f"{base}/api/live?project=AllIncompassing&since={mark}", headers={"Cookie": cookie_header}
        )
        stream = urllib.request.urlopen(req, timeout=30)
        start = time.monotonic()
        post_json(f"{sandbox}/__sandbox/clock", {"advance_ms": 900_000})
        while True:
            line = stream.readline().decode()
            if line.startswith("data:"):
                break
        elapsed = (time.monotonic() - start) * 1000
        stream.close()
        print(f"round {n + 1}: {elapsed:.0f} ms")


async def _request(base, path, cookie_header):
    u = urllib.parse.urlsplit(base)
    reader, writer = await asyncio.open_connection(u.hostname, u.port)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {u.netloc}\r\nCookie: {cookie_header}\r\n"
        f"Accept-Encoding: identity\r\nConnection: close\r\n\r\n".encode()
    )
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    return status, reader, writer


async def _pressure(base, cookie_header, streams, exporters, seconds):
    counts = {"streams_open": 0, "streams_refused": 0, "exports_done": 0,
              "exports_refused": 0, "export_bytes": 0, "errors": 0}
    held = []
    for _ in range(streams):
        try:
            status, reader, writer = await _request(
                base, "/api/live?project=AllIncompassing&since=0", cookie_header)
        except OSError:
            counts["errors"] += 1
            continue
        if status == 200:
            counts["streams_open"] += 1
            held.append(writer)
        else:
            counts["streams_refused"] += 1
            writer.close()
    deadline = time.monotonic() + seconds

    async def exporter():
        while time.monotonic() < deadline:
            try:
                status, reader, writer = await _request(base, "/history/export?format=csv", cookie_header)
                body = 0
                while chunk := await reader.read(65536):
                    body += len(chunk)
                writer.close()
            except OSError:
                counts["errors"] += 1
                await asyncio.sleep(0.5)
                continue
            if status == 200:
                counts["exports_done"] += 1
                counts["export_bytes"] += body
            else:
                counts["exports_refused"] += 1
                await asyncio.sleep(0.5)

    await asyncio.gather(*(exporter() for _ in range(exporters)))
    for w in held:
        w.close()
    return counts


def pressure(base, cookie_header, streams, exporters, seconds):
    counts = asyncio.run(_pressure(base, cookie_header, streams, exporters, seconds))
    print(" ".join(f"{k}={v}" for k, v in counts.items()))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "cookie":
        print(cookie(sys.argv[2], sys.argv[3]))
    elif cmd == "wait-synced":
        wait_synced(sys.argv[2], sys.argv[3])
    elif cmd == "live-deploy":
        d = get_json(sys.argv[2], "/api/overview?project=AllIncompassing", sys.argv[3])["staging"]["deploy"]
        print(f"/deploys/{d['site_id']}/{d['deploy_id']}")
    elif cmd == "live":
        live(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == "pressure":
        pressure(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]))
    else:
        raise SystemExit(__doc__)
