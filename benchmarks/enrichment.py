"""Enrichment speed against loopback upstreams with injected latency (run by hand).

    python benchmarks/enrichment.py [--dns 0.05] [--rdap 0.3] [--whois 0.15] [--internetdb 0.1]

Prints: the cold card's wall time against the slowest source's own time (target <= 1.2x +
0.1 s) and against asking the sources one after another, as a script would; the warm card's
time (target <= 20 ms); 100 different indicators enriched at once (wall time, peak memory).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from enrichment.indicators import make_indicator
from enrichment.model import Kind, Report
from enrichment.service import Service
from enrichment.settings import Settings
from tests.servers.dns_server import DEFAULT_ZONE, DnsServer
from tests.servers.http_server import Fault, HttpServer, rdap_routes
from tests.servers.whois_server import PRELOADED, WhoisServer

SOURCES = ("dns", "asn", "rdap", "whois", "internetdb")
BULK = 100


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dns", type=float, default=0.05, help="seconds per DNS answer")
    parser.add_argument("--rdap", type=float, default=0.3, help="seconds per RDAP answer")
    parser.add_argument("--whois", type=float, default=0.15, help="seconds per WHOIS answer")
    parser.add_argument(
        "--internetdb", type=float, default=0.1, help="seconds per InternetDB answer"
    )
    return parser.parse_args()


def _settings(data: Path, dns: DnsServer, http: HttpServer, whois: WhoisServer) -> Settings:
    return Settings(
        data_dir=data,
        sources=SOURCES,
        dns_servers=(dns.address,),
        whois_server=whois.address,
        rdap_url=http.url + "/rdap",
        source_urls={"internetdb": http.url + "/internetdb"},
        deadline=10.0,
    )


async def _timed(service: Service, value: str, kind: Kind = Kind.DOMAIN) -> tuple[float, Report]:
    started = time.perf_counter()
    report = await service.enrich(make_indicator(kind, value))
    return time.perf_counter() - started, report


async def _bench(settings: Settings, data: Path, injected: float) -> None:
    async with Service(settings) as service:
        # The first card of a process also pays for imports and connection set-up; a cold
        # card is a cold cache, so warm the process on another name first.
        first, _ = await _timed(service, "example-bank.co.uk")
        cold, report = await _timed(service, "qpdar.pw")
        asked = [r for r in report.results.values() if r.status.value != "skipped"]
        slowest = max(r.elapsed_ms for r in asked) / 1000
        warm = []
        for _ in range(50):
            seconds, _ = await _timed(service, "qpdar.pw")
            warm.append(seconds)
    # One after another, as a script calling each library in turn would.
    sequential = 0.0
    for name in (r.name for r in asked):
        single = replace(settings, sources=(name,), data_dir=data / name)
        async with Service(single) as service:
            seconds, _ = await _timed(service, "qpdar.pw")
            sequential += seconds
    print(f"first card of the process:          {first * 1000:8.1f} ms")
    print(f"cold card (qpdar.pw, {len(asked)} sources): {cold * 1000:8.1f} ms")
    print(f"  slowest source, its own time:       {slowest * 1000:8.1f} ms")
    print(
        f"  ratio cold / slowest:               {cold / slowest:8.2f}x "
        f"(target <= 1.2x + 0.1 s: {'met' if cold <= 1.2 * slowest + 0.1 else 'MISSED'})"
    )
    print(
        f"  ratio cold / injected latency of the slowest ({injected:.2f} s): {cold / injected:.2f}x"
    )
    print(
        f"  sources one after another:          {sequential * 1000:8.1f} ms "
        f"({sequential / cold:.1f}x the card)"
    )
    print(
        f"warm card: median {statistics.median(warm) * 1000:.2f} ms, "
        f"p95 {sorted(warm)[int(len(warm) * 0.95)] * 1000:.2f} ms (target <= 20 ms)"
    )


async def _bulk(settings: Settings, label: str) -> None:
    names = [f"bench{i}.pw" for i in range(BULK)]
    tracemalloc.start()
    async with Service(settings) as service:
        started = time.perf_counter()
        reports = await asyncio.gather(
            *(service.enrich(make_indicator(Kind.DOMAIN, n)) for n in names)
        )
        wall = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    counts: dict[str, Counter[str]] = {}
    for report in reports:
        for name, result in report.results.items():
            if result.status.value != "skipped":
                counts.setdefault(name, Counter())[result.status.value] += 1
    print(
        f"{BULK} different domains at once, {label}: {wall:.2f} s wall, {BULK / wall:.0f} cards/s"
    )
    for name, statuses in sorted(counts.items()):
        print(f"  {name:10} " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    print(
        f"  peak traced Python memory: {peak / 2**20:.1f} MiB; "
        f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )


def main() -> None:
    args = _args()
    with (
        DnsServer(DEFAULT_ZONE) as dns,
        HttpServer() as http,
        WhoisServer(PRELOADED) as whois,
        tempfile.TemporaryDirectory() as tmp,
    ):
        rdap_routes(http)
        http.route(
            "/internetdb/",
            {"ip": "x", "ports": [80], "hostnames": [], "cpes": [], "tags": [], "vulns": []},
            prefix=True,
        )
        for i in range(BULK):  # 100 different registrations, so no lookup is shared
            dns.add(f"bench{i}.pw", "A", f"212.61.180.{i + 1}")
        dns.delay = args.dns
        http.fault(Fault.delay(args.rdap), "/rdap", prefix=True)
        http.fault(Fault.delay(args.rdap), "/registrar-rdap", prefix=True)
        http.fault(Fault.delay(args.internetdb), "/internetdb", prefix=True)
        whois.delay = args.whois
        print(
            f"injected latency: dns {args.dns} s, rdap {args.rdap} s per request "
            f"(thin registry + registrar = 2), whois {args.whois} s, internetdb {args.internetdb} s"
        )
        data = Path(tmp)
        slowest = max(2 * args.rdap, args.whois, args.dns)  # RDAP: registry, then registrar
        asyncio.run(_bench(_settings(data / "a", dns, http, whois), data, slowest))
        bulk = _settings(data / "bulk", dns, http, whois)
        asyncio.run(_bulk(replace(bulk, sources=("dns", "rdap")), "dns + rdap"))
        # One WHOIS server answers one query at a time (etiquette), so 100 names queue there
        # and the deadline cuts the queue: the card goes out, WHOIS says "timeout".
        asyncio.run(_bulk(replace(bulk, data_dir=data / "bulk2"), "every source"))


if __name__ == "__main__":
    main()
