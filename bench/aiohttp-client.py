"""The asyncio/aiohttp comparison client for bench/capacity.ts: `streams` closed-loop users, each
posting a streaming chat request and reading its SSE body line by line, JSON-parsing every event
(as the reference client does in Node). Prints one JSON line in the shape of client-worker.ts's
window result: events/s in the measure window, CPU share, and asyncio loop lag percentiles."""

import asyncio
import json
import sys
import time

import aiohttp


async def main(task):
    url = task["url"].rstrip("/") + "/chat/completions"
    body = {"model": "bench", "max_tokens": task["maxTokens"], "stream": True, "messages": []}
    warmup, measure = task["warmupMs"] / 1000, task["measureMs"] / 1000
    t0 = time.monotonic()
    start, end = t0 + warmup, t0 + warmup + measure
    counts = {"events": 0, "total": 0, "requests": 0}
    lags = []

    async def user(session):
        while time.monotonic() < end:
            async with session.post(url, json=body, headers={"accept": "text/event-stream"}) as resp:
                async for line in resp.content:
                    if line.startswith(b"data: ") and not line.startswith(b"data: [DONE]"):
                        json.loads(line[6:])
                        counts["total"] += 1
                        now = time.monotonic()
                        if start <= now < end:
                            counts["events"] += 1
            if start <= time.monotonic() < end:
                counts["requests"] += 1

    async def watch_loop():
        # Loop lag as Node's monitorEventLoopDelay sees it: how late a 1 ms timer fires.
        while time.monotonic() < end:
            before = time.monotonic()
            await asyncio.sleep(0.001)
            if before >= start:
                lags.append((time.monotonic() - before - 0.001) * 1000)

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.sleep(max(0, start - time.monotonic()))
        cpu0 = time.process_time()
        tasks = [asyncio.create_task(user(session)) for _ in range(task["streams"])]
        watcher = asyncio.create_task(watch_loop())
        await asyncio.sleep(max(0, end - time.monotonic()))
        cpu = time.process_time() - cpu0
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, watcher, return_exceptions=True)
    lags.sort()
    pct = lambda p: round(lags[min(len(lags) - 1, int(p / 100 * len(lags)))], 3) if lags else 0
    print(json.dumps({
        "events_per_s": round(counts["events"] / measure),
        "total_events": counts["total"],
        "requests_per_s": round(counts["requests"] / measure),
        "cpu": round(cpu / measure, 3),
        "loop_lag_p50_ms": pct(50),
        "loop_lag_p99_ms": pct(99),
        "loop_lag_max_ms": round(lags[-1], 3) if lags else 0,
    }))


asyncio.run(main(json.loads(sys.argv[1])))
