"""Indicator extraction: Pivot against iocextract and ioc-finder (run by hand, not by pytest).

    python benchmarks/extraction.py [--size 3000000] [--timed 1000000] [--repeat 3] [--cap 4]

Prints, for each tool: throughput in MB/s over a generated SOC chat corpus (benchmarks/
corpus.py: defanged, Slack-linked and plain indicators among chatter, reports, MISP lines and
logs), one call per chat message as the bot makes them, best of `--repeat` runs over the
first `--timed` characters, and its ratio to Pivot; precision, recall and F1 per kind over
the whole `--size` corpus, every message of which is labelled; and the time on adversarial
inputs of 10 KB and 100 KB with the growth between them. Peers run the adversarial inputs in
a subprocess stopped at `--cap` seconds.

Scoring is the same for every tool: each value found is refanged and made canonical with
Pivot's own normaliser (lower-case hosts, punycode, `http://` added to a scheme-less URL), so
a peer loses nothing to spelling. ioc-finder is told the project's convention (no domains
taken out of URLs or email addresses, no addresses out of CIDR ranges, Unicode names on);
iocextract has no extractor for domains or CIDR ranges: shown as n/a.
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.corpus import Message, corpus
from enrichment import indicators
from enrichment.errors import InvalidInput
from enrichment.indicators import Kind, extract_indicators, make_indicator, refang
from enrichment.indicators import _names as _indicator_names

Pair = tuple[str, str]
KINDS = [k.value for k in Kind]
ADVERSARIAL = {
    "a.a.a.": "a.",
    "[.][.]": "[.]",
    "a[.]a[.]": "a[.]",
    "digits and dots": "1.",
    "12.34.": "12.34.",
    "@@@": "@",
    "a@a@": "a@",
    "<<<": "<",
    ":::": ":",
    "[[[": "[",
    "hex": "0123456789abcdef",
    "http://": "http://",
    "a DOT a DOT": "a DOT ",
    "[http]:// ": "[http]:// ",
    "a_a_a.": "a_a.",
}
SIZES = (10_000, 100_000)


def pivot(text: str) -> list[Pair]:
    return [(i.kind.value, i.value) for i in extract_indicators(text)]


def iocextract_pairs(text: str) -> list[Pair]:
    import iocextract

    found = [("url", u) for u in iocextract.extract_urls(text, refang=True)]
    found += [("ipv6" if ":" in ip else "ipv4", ip) for ip in iocextract.extract_ips(text, True)]
    found += [("email", e) for e in iocextract.extract_emails(text, refang=True)]
    found += [("md5", h) for h in iocextract.extract_md5_hashes(text)]
    found += [("sha1", h) for h in iocextract.extract_sha1_hashes(text)]
    found += [("sha256", h) for h in iocextract.extract_sha256_hashes(text)]
    return found


IOC_FINDER_KEYS = {
    "domains": "domain",
    "ipv4s": "ipv4",
    "ipv6s": "ipv6",
    "ipv4_cidrs": "cidr",
    "ipv6_cidrs": "cidr",
    "urls": "url",
    "email_addresses": "email",
    "md5s": "md5",
    "sha1s": "sha1",
    "sha256s": "sha256",
}


def ioc_finder_pairs(text: str) -> list[Pair]:
    from ioc_finder import find_iocs

    found = find_iocs(
        text,
        parse_domain_from_url=False,
        parse_from_url_path=False,
        parse_domain_from_email_address=False,
        parse_address_from_cidr=False,
        parse_unicode_iocs=True,
        included_ioc_types=list(IOC_FINDER_KEYS),
    )
    return [(IOC_FINDER_KEYS[key], str(v)) for key, values in found.items() for v in values]


TOOLS: dict[str, Callable[[str], list[Pair]]] = {
    "Pivot": pivot,
    "iocextract": iocextract_pairs,
    "ioc-finder": ioc_finder_pairs,
}
SUPPORTED = {
    "Pivot": set(KINDS),
    "iocextract": set(KINDS) - {"domain", "cidr"},
    "ioc-finder": set(KINDS),
}


def normalise(pair: Pair) -> Pair:
    kind, raw = pair
    text = refang(raw.strip())
    if kind == "url" and "://" not in text:
        text = "http://" + text
    try:
        return kind, make_indicator(Kind(kind), text).value
    except InvalidInput:
        return kind, text.lower()


@dataclass
class Run:
    seconds: float
    found: list[set[Pair]]


def run_tool(tool: Callable[[str], list[Pair]], messages: list[Message]) -> Run:
    outputs = []
    start = time.perf_counter()
    for message in messages:
        outputs.append(tool(message.text))
    seconds = time.perf_counter() - start
    return Run(seconds, [{normalise(p) for p in out} for out in outputs])


def forget() -> None:
    """Empty Pivot's memo caches, so a repeated run costs what the first one did."""
    for cached in (_indicator_names._canonical, _indicator_names._display, indicators._indicator):
        cached.cache_clear()


def throughput(tool: Callable[[str], list[Pair]], texts: list[str], repeat: int) -> float:
    """Seconds for one call per text, the best of `repeat` runs (a shared machine only ever
    adds time), each with Pivot's caches emptied."""
    best = float("inf")
    for _ in range(repeat):
        forget()
        start = time.perf_counter()
        for text in texts:
            tool(text)
        best = min(best, time.perf_counter() - start)
    return best


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float

    @classmethod
    def of(cls, tp: int, fp: int, fn: int) -> Score:
        """From counts of true positives, false positives and false negatives."""
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(precision, recall, f1)


def scores(messages: list[Message], run: Run) -> dict[str, Score]:
    tp: collections.Counter[str] = collections.Counter()
    fp: collections.Counter[str] = collections.Counter()
    fn: collections.Counter[str] = collections.Counter()
    for message, found in zip(messages, run.found, strict=True):
        tp.update(kind for kind, _ in found & message.expected)
        fp.update(kind for kind, _ in found - message.expected)
        fn.update(kind for kind, _ in message.expected - found)
    out = {kind: Score.of(tp[kind], fp[kind], fn[kind]) for kind in KINDS}
    out["all"] = Score.of(tp.total(), fp.total(), fn.total())
    return out


# --- adversarial inputs ----------------------------------------------------------------------


def _child(tool: str, path: str) -> None:
    """Run one tool once on a file; print the seconds it took (imports excluded)."""
    logging.disable(logging.CRITICAL)
    function = TOOLS[tool]
    function("warm up qpdar[.]pw")
    print("ready", flush=True)
    text = Path(path).read_text(encoding="utf-8")
    start = time.perf_counter()
    function(text)
    print(json.dumps(time.perf_counter() - start), flush=True)


@dataclass(frozen=True)
class Timed:
    """One timed run: `seconds`, or None when the peer was stopped at the cap or failed;
    `failure` says why a child gave no time (it crashed, was killed, printed something else)."""

    seconds: float | None
    failure: str | None = None


def child_time(out: str, returncode: int | None, err: str) -> Timed:
    """What a finished child reported: the time it printed, or why it printed none."""
    try:
        return Timed(float(out.strip()))
    except ValueError:
        said = err.strip().splitlines()[-1:] or [f"printed {out.strip()[:40]!r}"]
        return Timed(None, f"exit {returncode}: {said[0][:60]}")


def timed_in_subprocess(tool: str, text: str, cap: float) -> Timed:
    """Seconds `tool` needs on `text` (imports excluded); no seconds when it was still running
    at `cap`, or when its child exited without printing its time: reported, never raised."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as f:
        f.write(text)
    try:
        return run_child([sys.executable, __file__, "--child", tool, f.name], cap)
    finally:
        Path(f.name).unlink()


def run_child(command: list[str], cap: float) -> Timed:
    """Start a child, wait for its `ready` line (imports done), then give it `cap` seconds to
    print its time. Its stdout is read unbuffered: a buffered `readline` could take the time
    line along with `ready`, and `communicate` (which reads the pipe itself) would never see
    it, so a quick peer looked as if it had printed nothing."""
    pipe = subprocess.PIPE
    with subprocess.Popen(command, stdout=pipe, stderr=pipe, bufsize=0) as child:
        assert child.stdout is not None
        child.stdout.readline()  # unbuffered: reads no further than the end of the line
        try:
            out, err = child.communicate(timeout=cap)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            return Timed(None)
    return child_time(out.decode(errors="replace"), child.returncode, err.decode(errors="replace"))


def timed_here(text: str) -> float:
    best = float("inf")
    for _ in range(3):
        forget()
        start = time.perf_counter()
        pivot(text)
        best = min(best, time.perf_counter() - start)
    return best


def adversarial(tool: str, cap: float) -> dict[str, list[Timed]]:
    results: dict[str, list[Timed]] = {}
    for name, unit in ADVERSARIAL.items():
        times: list[Timed] = []
        for size in SIZES:
            text = unit * (size // len(unit))
            if times and times[-1].seconds is None:
                times.append(times[-1])  # the smaller input already hit the cap or failed
            elif tool == "Pivot":
                times.append(Timed(timed_here(text)))
            else:
                times.append(timed_in_subprocess(tool, text, cap))
        results[name] = times
        print(".", end="", file=sys.stderr, flush=True)
    return results


# --- report ----------------------------------------------------------------------------------


def _secs(value: Timed, cap: float) -> str:
    if value.failure:
        return "failed"
    return f"> {cap:g} s" if value.seconds is None else f"{value.seconds * 1000:.1f} ms"


def print_throughput(seconds: dict[str, float], texts: list[str], repeat: int) -> None:
    megabytes = sum(len(t.encode()) + 1 for t in texts) / 1e6
    print(f"\nThroughput: {megabytes:.2f} MB, {len(texts)} messages, one call per message,")
    print(f"best of {repeat} runs")
    base = megabytes / seconds["Pivot"]
    for name, spent in seconds.items():
        rate = megabytes / spent
        print(f"  {name:11} {spent:7.2f} s  {rate:7.2f} MB/s   Pivot is {base / rate:5.1f}x")


def print_scores(table: dict[str, dict[str, Score]]) -> None:
    tools = list(table)
    print("  kind    " + "".join(f"{t:>24}" for t in tools))
    for kind in [*KINDS, "all"]:
        cells = []
        for tool in tools:
            s = table[tool][kind]
            supported = kind == "all" or kind in SUPPORTED[tool]
            cells.append(f"{s.precision:.3f} {s.recall:.3f} {s.f1:.3f}" if supported else "n/a")
        print(f"  {kind:8}" + "".join(f"{c:>24}" for c in cells))


def _growth(small: Timed, large: Timed) -> float | None:
    if small.seconds is None or large.seconds is None:
        return None
    return large.seconds / max(small.seconds, 1e-6)


def _adversarial_cell(times: list[Timed], cap: float) -> str:
    small, large = times
    growth = _growth(small, large)
    shown = f"x{growth:.1f}" if growth is not None else "-"
    return f"{_secs(small, cap)} / {_secs(large, cap)} ({shown})"


def _worst(tool: str, times: list[list[Timed]], cap: float) -> str:
    large = [t[1] for t in times]
    stopped = [t for t in large if t.seconds is None]
    worst = stopped[0] if stopped else max(large, key=lambda t: t.seconds or 0.0)
    growths = [g for g in (_growth(*t) for t in times) if g is not None]
    most = f", largest growth x{max(growths):.1f}" if growths else ""
    return f"  worst at 100 KB, {tool}: {_secs(worst, cap)}{most}"


def _failures(results: dict[str, dict[str, list[Timed]]]) -> list[str]:
    """One line per input a peer's child failed on (a larger input after it is not tried)."""
    lines = []
    for tool, by_input in results.items():
        for name, times in by_input.items():
            size, failure = next(
                ((s, t.failure) for s, t in zip(SIZES, times, strict=True) if t.failure), (0, None)
            )
            if failure:
                lines.append(f"  {tool} failed on {name!r} at {size // 1000} KB: {failure}")
    return lines


def print_adversarial(results: dict[str, dict[str, list[Timed]]], cap: float) -> None:
    print(f"\nAdversarial inputs: time at {SIZES[0] // 1000} KB / {SIZES[1] // 1000} KB (growth)")
    tools = list(results)
    print("  input          " + "".join(f"{t:>30}" for t in tools))
    for name in ADVERSARIAL:
        cells = [_adversarial_cell(results[tool][name], cap) for tool in tools]
        print(f"  {name:15}" + "".join(f"{c:>30}" for c in cells))
    for tool in tools:
        print(_worst(tool, list(results[tool].values()), cap))
    for line in _failures(results):
        print(line)


def print_megabyte(chat: str) -> None:
    """Pivot on 1 MB of chat against 1 MB of each adversarial input."""
    size = 1_000_000
    chat_seconds = timed_here(chat[:size])
    worst, name = max(
        (timed_here(unit * (size // len(unit))), n) for n, unit in ADVERSARIAL.items()
    )
    print(
        f"  (Pivot on 1 MB: chat {chat_seconds * 1000:.0f} ms, worst adversarial input {name!r} "
        f"{worst * 1000:.0f} ms, {worst / chat_seconds:.1f}x)"
    )


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=3_000_000, help="labelled corpus, characters")
    parser.add_argument("--timed", type=int, default=1_000_000, help="timed part, characters")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs, the best counts")
    parser.add_argument("--cap", type=float, default=4.0, help="seconds before a peer is stopped")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = _args()
    if args.child:
        _child(*args.child)
        return
    logging.disable(logging.CRITICAL)
    messages = corpus(args.size, seed=args.seed)
    megabytes = sum(len(m.text.encode()) + 1 for m in messages) / 1e6
    for tool in TOOLS.values():
        tool("warm up: hxxp://qpdar[.]pw/main.php 212.61.180[.]100")
    runs = {name: run_tool(tool, messages) for name, tool in TOOLS.items()}
    timed = [m.text for m in corpus(args.timed, seed=args.seed)]
    seconds = {name: throughput(tool, timed, args.repeat) for name, tool in TOOLS.items()}
    blob = "\n".join(m.text for m in messages)
    start = time.perf_counter()
    pivot(blob)
    blob_seconds = time.perf_counter() - start
    print("adversarial inputs", end="", file=sys.stderr, flush=True)
    hostile = {tool: adversarial(tool, args.cap) for tool in TOOLS}
    print(file=sys.stderr)
    print_throughput(seconds, timed, args.repeat)
    print(f"  (Pivot on the whole {megabytes:.1f} MB corpus as one text: ", end="")
    print(f"{megabytes / blob_seconds:.2f} MB/s)")
    print_megabyte(blob)
    print(f"\nPrecision / recall / F1 per kind, {len(messages)} labelled messages", end="")
    print(f" ({megabytes:.1f} MB)")
    print_scores({name: scores(messages, run) for name, run in runs.items()})
    print_adversarial(hostile, args.cap)


if __name__ == "__main__":
    main()
