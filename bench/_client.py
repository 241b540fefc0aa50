"""Fallback load generator for bench/http.py when ``wrk`` is unavailable: plain asyncio, standard library only.

Each of ``connections`` workers sends one request at a time (``Connection: close``, as gunicorn's sync workers close
anyway), rotating through the header sets. It is slower than wrk and shares the CPU with the server, so prefer wrk.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any


def _percentile(sorted_ms: list[float], p: float) -> float:
    if not sorted_ms:
        return 0.0
    k = min(len(sorted_ms) - 1, max(0, round(p / 100 * len(sorted_ms)) - 1))
    return sorted_ms[k]


async def _worker(
    port: int, reqs: list[bytes], offset: int, stop_at: float, lat: list[float], counts: dict[str, int]
) -> None:
    i = offset
    while time.perf_counter() < stop_at:
        raw = reqs[i % len(reqs)]
        i += 1
        t0 = time.perf_counter()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
            writer.write(raw)
            await writer.drain()
            data = await asyncio.wait_for(reader.read(), 5)
            writer.close()
        except TimeoutError:
            counts["timeouts"] += 1
            continue
        except OSError:
            counts["socket_errors"] += 1
            continue
        lat.append((time.perf_counter() - t0) * 1000)
        try:
            status = int(data.split(b" ", 2)[1])
        except (IndexError, ValueError):
            counts["socket_errors"] += 1
            continue
        key = f"{status // 100}xx"
        counts[key] = counts.get(key, 0) + 1


async def _run(
    port: int, path: str, header_sets: list[dict[str, str]], seconds: float, connections: int
) -> dict[str, Any]:
    reqs = []
    for h in header_sets or [{}]:
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in h.items()]
        reqs.append(("\r\n".join(lines) + "\r\n\r\n").encode())
    lat: list[float] = []
    counts: dict[str, int] = {"timeouts": 0, "socket_errors": 0}
    t0 = time.perf_counter()
    stop_at = t0 + seconds
    await asyncio.gather(*(_worker(port, reqs, n * 7, stop_at, lat, counts) for n in range(connections)))
    elapsed = time.perf_counter() - t0
    lat.sort()
    statuses = {k: v for k, v in counts.items() if k.endswith("xx")}
    return {
        "requests": len(lat),
        "seconds": elapsed,
        "p50_ms": _percentile(lat, 50),
        "p90_ms": _percentile(lat, 90),
        "p99_ms": _percentile(lat, 99),
        "max_ms": lat[-1] if lat else 0.0,
        "socket_errors": counts["socket_errors"],
        "timeouts": counts["timeouts"],
        "non_2xx": sum(v for k, v in statuses.items() if k != "2xx"),
        "statuses": statuses,
    }


def run(
    port: int, path: str, header_sets: list[dict[str, str]], *, seconds: float, connections: int
) -> dict[str, Any]:
    return asyncio.run(_run(port, path, header_sets, seconds, connections))
