"""The port-43 client against loopback WHOIS servers: chains, etiquette, faults."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Iterator

import pytest

from enrichment.errors import RateLimited, SourceTimeout, Unavailable
from enrichment.whois.client import (
    IANA,
    WhoisClient,
    looks_rate_limited,
    query_text,
    referral_host,
)
from tests.servers.whois_server import (
    FIXTURES,
    IANA_ANSWERS,
    PRELOADED,
    REGISTRAR_ANSWERS,
    Fault,
    WhoisServer,
    fixture_text,
    normalise,
)

REGISTRY = "whois.verisign-grs.com"
REGISTRAR = "whois.registrar.example"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


Chain = tuple[WhoisServer, WhoisServer, WhoisServer]


@pytest.fixture
def chain() -> Iterator[Chain]:
    """IANA, a registry that answers for every TLD, and the registrar of mailsrv-update.com."""
    with (
        WhoisServer(IANA_ANSWERS) as iana,
        WhoisServer(PRELOADED) as registry,
        WhoisServer(REGISTRAR_ANSWERS) as registrar,
    ):
        yield iana, registry, registrar


def chain_client(chain: Chain, **kwargs: object) -> WhoisClient:
    iana, registry, registrar = chain
    addresses = {IANA: iana.address, REGISTRAR: registrar.address}
    for host in (REGISTRY, "whois.nic.pw", "whois.denic.de", "whois.jprs.jp"):
        addresses[host] = registry.address
    for host in ("whois.ripe.net", "whois.arin.net"):
        addresses[host] = registry.address
    options: dict[str, object] = {"gap": 0.0, "timeout": 1.0, **kwargs}
    return WhoisClient(addresses=addresses, **options)  # type: ignore[arg-type]


async def test_iana_then_registry_then_registrar(chain: Chain) -> None:
    iana, registry, registrar = chain
    result = await chain_client(chain).domain("mailsrv-update.com")
    assert [a.server for a in result.answers] == [REGISTRY, REGISTRAR]
    assert result.answers[0].text == fixture_text("mailsrv-update.com.registry.txt")
    assert result.answers[1].text == fixture_text("mailsrv-update.com.registrar.txt")
    assert (iana.queries, registry.queries, registrar.queries) == (
        ["com"],
        ["mailsrv-update.com"],
        ["mailsrv-update.com"],
    )
    assert result.notes == ()


async def test_iana_answer_is_cached_until_it_expires(chain: Chain) -> None:
    iana = chain[0]
    clock = Clock()
    client = chain_client(chain, clock=clock, iana_ttl=3600.0)
    await client.domain("mailsrv-update.com")
    await client.domain("nosuchdomain-pivot.com")
    assert iana.queries == ["com"]
    clock.now += 3601
    await client.domain("mailsrv-update.com")
    assert iana.queries == ["com", "com"]


async def test_referral_to_the_registry_itself_is_not_followed(chain: Chain) -> None:
    _, registry, registrar = chain
    result = await chain_client(chain).domain("qpdar.pw")  # names whois.nic.pw, its registry
    assert [a.server for a in result.answers] == ["whois.nic.pw"]
    assert registry.queries == ["qpdar.pw"]
    assert registrar.queries == []


@pytest.mark.parametrize("target", ["127.0.0.1", "localhost", "10.0.0.8"])
async def test_referral_to_a_private_address_is_refused(chain: Chain, target: str) -> None:
    registry = chain[1]
    registry.answers["evil-ref.com"] = (
        f"Domain Name: EVIL-REF.COM\nRegistrar WHOIS Server: {target}\n"
        "Creation Date: 2024-01-01T00:00:00Z\n"
    )
    result = await chain_client(chain).domain("evil-ref.com")
    assert [a.server for a in result.answers] == [REGISTRY]
    assert len(result.notes) == 1
    assert result.notes[0].endswith("; not reached")


@pytest.mark.parametrize(
    "line", ["whois.evil.example:4343", "http://whois.evil.example/", "rwhois://x.example:4321"]
)
async def test_malformed_referral_is_ignored(chain: Chain, line: str) -> None:
    registry = chain[1]
    registry.answers["odd-ref.com"] = f"Domain Name: ODD-REF.COM\nRegistrar WHOIS Server: {line}\n"
    result = await chain_client(chain).domain("odd-ref.com")
    assert [a.server for a in result.answers] == [REGISTRY]
    assert result.notes == ()


async def test_failing_registrar_keeps_the_registry_answer(chain: Chain) -> None:
    registrar = chain[2]
    registrar.fault = Fault.HANG
    result = await chain_client(chain, timeout=0.3).domain("mailsrv-update.com")
    assert [a.server for a in result.answers] == [REGISTRY]
    assert result.notes == (
        f"registrar server {REGISTRAR}: {REGISTRAR} did not answer within 0.3 s",
    )


async def test_fixed_server_answers_everything_without_iana(whois_server: WhoisServer) -> None:
    client = WhoisClient(server=whois_server.address, gap=0.0, timeout=1.0)
    domain = await client.domain("mailsrv-update.com")
    ip = await client.ip("212.61.180.100")
    # no IANA step, no referral although the registry names a registrar, no special syntax
    assert whois_server.queries == ["mailsrv-update.com", "212.61.180.100"]
    assert len(domain.answers) == 1
    assert ip.answers[0].text == fixture_text("ripe-212.61.180.100.txt")


async def test_queries_are_ascii_lines_ending_in_crlf(whois_server: WhoisServer) -> None:
    client = WhoisClient(server=whois_server.address, gap=0.0, timeout=1.0)
    await client.domain("Bücher.DE.")
    assert whois_server.raw_queries == [b"xn--bcher-kva.de\r\n"]


async def test_servers_get_their_own_query_syntax(chain: Chain) -> None:
    iana, registry, _ = chain
    client = chain_client(chain)
    await client.domain("heizung-berater.de")
    await client.domain("sakura-denki.jp")
    await client.ip("104.168.33.7")
    await client.ip("212.61.180.100")
    await client.ip("2a0b:7e40:1200::10")
    assert iana.queries == ["de", "jp", "104.168.33.7", "212.61.180.100", "2a0b:7e40:1200::10"]
    assert registry.queries == [
        "-T dn,ace heizung-berater.de",
        "sakura-denki.jp/e",
        "n + 104.168.33.7",
        "-r 212.61.180.100",
        "-r 2a0b:7e40:1200::10",
    ]


async def test_iana_network_answer_is_reused_for_the_whole_block(chain: Chain) -> None:
    iana = chain[0]
    client = chain_client(chain)
    await client.ip("212.61.180.100")
    await client.ip("212.200.1.1")  # same /8 at IANA: no second IANA question
    await client.ip("104.168.33.7")
    assert iana.queries == ["212.61.180.100", "104.168.33.7"]


@pytest.mark.parametrize(
    ("server", "query", "line"),
    [
        ("whois.denic.de", "a.de", "-T dn,ace a.de"),
        ("WHOIS.JPRS.JP", "a.jp", "a.jp/e"),
        ("whois.arin.net", "8.8.8.8", "n + 8.8.8.8"),
        ("whois.ripe.net", "1.2.3.4", "-r 1.2.3.4"),
        ("whois.verisign-grs.com", "a.com", "a.com"),
    ],
)
def test_query_text(server: str, query: str, line: str) -> None:
    assert query_text(server, query) == line
    assert normalise(line) == query.lower()


async def test_one_query_at_a_time_per_server() -> None:
    with WhoisServer({f"q{i}": f"answer {i}" for i in range(5)}, delay=0.05) as server:
        client = WhoisClient(server=server.address, gap=0.0, timeout=2.0)
        answers = await asyncio.gather(*(client.query("fixed", f"q{i}") for i in range(5)))
    assert [a.text for a in answers] == [f"answer {i}" for i in range(5)]
    assert sorted(server.queries) == [f"q{i}" for i in range(5)]
    assert server.max_concurrent == 1


async def test_the_server_would_see_concurrency_without_the_lock() -> None:
    """Control for the test above: five clients, five connections open together."""
    with WhoisServer({"q": "answer"}, delay=0.3) as server:
        clients = [WhoisClient(server=server.address, gap=0.0, timeout=3.0) for _ in range(5)]
        await asyncio.gather(*(c.query("fixed", "q") for c in clients))
    assert server.max_concurrent > 1


async def test_gap_between_queries_to_one_server() -> None:
    gap = 0.2
    with WhoisServer({"a": "1", "b": "2", "c": "3"}) as server:
        client = WhoisClient(server=server.address, gap=gap, timeout=2.0)
        await asyncio.gather(*(client.query("fixed", q) for q in "abc"))
        times = server.query_times
    assert sorted(server.queries) == ["a", "b", "c"]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(g >= gap * 0.9 for g in gaps), gaps


async def test_no_gap_between_different_servers() -> None:
    with WhoisServer({"a": "1"}) as one, WhoisServer({"a": "2"}) as two:
        clock = Clock()
        client = WhoisClient(
            addresses={"one": one.address, "two": two.address}, gap=3600.0, clock=clock
        )
        first = await client.query("one", "a")
        second = await asyncio.wait_for(client.query("two", "a"), 2.0)
    assert (first.text, second.text) == ("1", "2")


async def test_byte_cap_keeps_what_came_and_marks_it() -> None:
    cap = 64 * 1024
    with WhoisServer({"qpdar.pw": fixture_text("qpdar.pw.txt")}, fault=Fault.HUGE) as server:
        client = WhoisClient(server=server.address, gap=0.0, timeout=2.0, max_bytes=cap)
        answer = await client.query("fixed", "qpdar.pw")
    assert answer.truncated
    assert len(answer.text.encode()) == cap
    assert answer.text.startswith(fixture_text("qpdar.pw.txt"))


async def test_complete_answer_is_not_marked_truncated(whois_server: WhoisServer) -> None:
    client = WhoisClient(server=whois_server.address, gap=0.0)
    answer = await client.query("fixed", "qpdar.pw")
    assert not answer.truncated


async def test_hanging_server_times_out() -> None:
    with WhoisServer({}, fault=Fault.HANG) as server:
        client = WhoisClient(server=server.address, timeout=0.3)
        with pytest.raises(SourceTimeout, match=r"did not answer within 0\.3 s"):
            await client.domain("qpdar.pw")


async def test_rate_limit_cools_the_server_down() -> None:
    clock = Clock()
    with WhoisServer({"qpdar.pw": "Domain Name: QPDAR.PW\n"}, fault=Fault.RATELIMIT) as server:
        client = WhoisClient(server=server.address, gap=0.0, cooldown=600.0, clock=clock)
        with pytest.raises(RateLimited) as first:
            await client.domain("qpdar.pw")
        assert first.value.retry_after == 600.0
        server.fault = None
        clock.now += 599
        with pytest.raises(RateLimited, match="cooling down") as second:
            await client.domain("qpdar.pw")
        assert second.value.retry_after == pytest.approx(1.0)
        assert server.queries == ["qpdar.pw"]  # the second query never reached the server
        clock.now += 2
        answer = await client.domain("qpdar.pw")
    assert answer.answers[0].text == "Domain Name: QPDAR.PW\n"
    assert server.queries == ["qpdar.pw", "qpdar.pw"]


async def test_cool_down_is_per_server() -> None:
    with WhoisServer({}, fault=Fault.RATELIMIT) as bad, WhoisServer({"a": "fine"}) as good:
        client = WhoisClient(addresses={"bad": bad.address, "good": good.address}, gap=0.0)
        with pytest.raises(RateLimited):
            await client.query("bad", "a")
        assert (await client.query("good", "a")).text == "fine"


async def test_garbage_is_decoded_with_replacement() -> None:
    with WhoisServer({}, fault=Fault.GARBAGE) as server:
        client = WhoisClient(server=server.address, gap=0.0)
        answer = await client.query("fixed", "qpdar.pw")
    assert "\ufffd" in answer.text
    assert len(answer.text) > 1000


async def test_connection_refused_is_unavailable() -> None:
    with WhoisServer({}) as server:
        address = server.address
    client = WhoisClient(server=address, timeout=1.0)
    with pytest.raises(Unavailable, match="refused"):
        await client.domain("qpdar.pw")


async def test_closed_at_once_is_unavailable() -> None:
    with WhoisServer({}, fault=Fault.CLOSE) as server:
        client = WhoisClient(server=server.address, timeout=1.0)
        with pytest.raises(Unavailable):
            await client.domain("qpdar.pw")


async def test_unresolvable_host_is_unavailable() -> None:
    client = WhoisClient(addresses={}, timeout=1.0)
    with pytest.raises(Unavailable, match=r"cannot resolve|not reached"):
        await client.query("no-such-host.invalid", "x")


async def test_tld_without_whois_server(chain: Chain) -> None:
    iana = chain[0]
    iana.answers["zz"] = "% IANA WHOIS server\n\ndomain:       ZZ\n\nstatus:       ACTIVE\n"
    with pytest.raises(Unavailable, match=r"no WHOIS server for \.zz"):
        await chain_client(chain).domain("example.zz")


@pytest.mark.parametrize(
    "text",
    [
        "WHOIS LIMIT EXCEEDED - SEE THE REGISTRY'S SITE FOR DETAILS\n",
        "%ERROR:201: access denied for 192.0.2.1\n% Queries from your address exceeded",
        "Rate limit exceeded. Try again after: 24h\n",
        "Your connection has been blocked for excessive querying.\n",
        "You have exceeded your query quota.\n",
        "% Error: 55000000002 Connection refused; access control limit reached.\n",
        "Too many queries from your address, slow down.\n",
    ],
)
def test_rate_limit_phrases(text: str) -> None:
    assert looks_rate_limited(text)


@pytest.mark.parametrize(
    "text",
    [
        fixture_text("qpdar.pw.txt"),
        "Domain Name: X.COM\nRegistrant Name: Rate Limit Exceeded\n"
        "Registrant Organization: Quota Ltd\n",
        "inetnum: 1.2.3.0 - 1.2.3.255\nremarks: access denied to spammers\n",
        "Domain Name: X.COM\n" + "% rate limit exceeded is just words here\n" + "x" * 5000,
    ],
)
def test_records_are_not_rate_limits(text: str) -> None:
    assert not looks_rate_limited(text)


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("Registrar WHOIS Server: whois.registrar.example\n", "whois.registrar.example"),
        ("   Whois Server: WHOIS.Example.NET.\n", "whois.example.net"),
        ("Registrar WHOIS Server: whois://whois.example.net\n", "whois.example.net"),
        ("Registrar WHOIS Server:\nRegistrar URL: http://x.example\n", None),
        ("Registrar WHOIS Server: <!channel>\n", None),
        ("Domain Name: X.COM\n", None),
    ],
)
def test_referral_host(text: str, host: str | None) -> None:
    assert referral_host(text) == host


FOOTERS = sorted(p.stem for p in (FIXTURES / "footers").glob("*.txt"))


def footer_record(registry: str) -> str:
    return (FIXTURES / "footers" / f"{registry}.txt").read_text()


@pytest.mark.parametrize("registry", FOOTERS)
def test_a_record_whose_legal_footer_mentions_limits_is_a_record(registry: str) -> None:
    record = footer_record(registry)
    assert not looks_rate_limited(record)
    # the footer's own words, without the record, are what a refusal looks like
    words = [line for line in record.splitlines() if LIMIT_WORDS.search(line)]
    assert words and looks_rate_limited("\n".join(words) + "\n")


LIMIT_WORDS = re.compile(r"rate limit|quota|denied|excessive|too many", re.IGNORECASE)


async def test_records_with_such_footers_never_cool_the_server_down() -> None:
    names = {f"x{i}.{registry}": footer_record(registry) for i, registry in enumerate(FOOTERS)}
    with WhoisServer(names) as server:
        client = WhoisClient(server=server.address, gap=0.0, cooldown=600.0)
        for name in names:
            answer = await client.domain(name)
            assert answer.answers[0].text == names[name]
        again = await client.domain(next(iter(names)))
    assert again.answers
    assert server.queries == [*names, next(iter(names))]  # every query reached the server
