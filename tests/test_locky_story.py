"""The reference story (DESIGN.md), as an analyst lives it in the console: from qpdar[.]pw to
its IP, to the other domains on that IP, to every domain its registrant owns, each button
showing how many there are, in the loopback world of DNS, WHOIS and the team's index."""

from __future__ import annotations

import re
from pathlib import Path

from tests.servers.dns_server import QPDAR_IP, DnsServer
from tests.servers.whois_server import PERSONA, WhoisServer
from tests.test_app_console import run_shell
from tests.test_cli import run

CO_HOSTED = ("kvmhost-update.pw", "xkqvbtrw.pw", "oqjvnwpzt.pw")
HIS_OWN = ("tver-post-billing.ru", "mailsrv-update.com", "gorbunov-hosting.net")


def team_export(path: Path) -> Path:
    """What a team's passive DNS and WHOIS exports taught the index before today."""
    rows = ["subject,relation,object,source,first_seen,last_seen"]
    rows += [f"{d},a,{QPDAR_IP},pdns,2016-02-01,2016-03-01" for d in CO_HOSTED]
    email = PERSONA["registrant_email"]
    rows += [f"{d},registrant_email,{email},whois-export,2016-01-01,2016-02-01" for d in HIS_OWN]
    path.write_text("\n".join(rows) + "\n")
    return path


def button(card: str, label: str) -> tuple[str, int | None]:
    """The number of the button whose text starts with `label`, and the count it shows."""
    flat = " ".join(card.split())  # the console wraps long button rows
    found = re.search(
        rf"\[(\d+)\] {re.escape(label)}[^\[]*?(?:\(([\d,]+)\))?(?: \(asks first\))? *(?=\[|$)", flat
    )
    assert found, f"no {label!r} button in:\n{card}"
    count = int(found.group(2).replace(",", "")) if found.group(2) else None
    return found.group(1), count


def story_env(tmp_path: Path, dns_server: DnsServer, whois_server: WhoisServer) -> dict[str, str]:
    dns_host, dns_port = dns_server.address
    whois_host, whois_port = whois_server.address
    return {
        "PIVOT_DATA_DIR": str(tmp_path / "data"),
        "PIVOT_SOURCES": "dns,whois,index",
        "PIVOT_DNS_SERVERS": f"{dns_host}:{dns_port}",
        "PIVOT_WHOIS_SERVER": f"{whois_host}:{whois_port}",
        "PIVOT_DEADLINE": "5",
    }


def session(script: str, env: dict[str, str]) -> str:
    done = run_shell(script, env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return done.stdout


def listed(page: str) -> list[str]:
    """The values a pivot page lists, as shown (defanged)."""
    return sorted(re.findall(r"`([^`]+)` ·", page))


def shown(domains: tuple[str, ...]) -> list[str]:
    return sorted(d.replace(".", "[.]") for d in domains)


def test_from_a_domain_to_its_ip_its_neighbours_and_its_registrants_domains(
    tmp_path: Path, dns_server: DnsServer, whois_server: WhoisServer
) -> None:
    env = story_env(tmp_path, dns_server, whois_server)
    imported = run(["index", "import", str(team_export(tmp_path / "export.csv"))], env=env)
    assert imported.returncode == 0, imported.stdout + imported.stderr

    card = session("/pivot qpdar[.]pw\nquit\n", env)
    co_hosted, hosted_count = button(card, "Co-hosted")
    theirs, their_count = button(card, "Registrant's domains")
    assert hosted_count == len(CO_HOSTED), "the button says how many before anyone clicks"
    assert their_count == len(HIS_OWN)

    check_each_step(session(f"/pivot qpdar[.]pw\n{co_hosted}\n{theirs}\nquit\n", env))


def check_each_step(out: str) -> None:
    """The card again (it now knows itself), then the two pages its buttons opened."""
    _, card, hosted, owned, _ = out.split("\n> ")  # banner, each input's answer, quit
    assert button(card, "Co-hosted")[1] == len(CO_HOSTED), "the card itself is not counted"
    assert "Same name server" not in card, "a pivot that finds only the card itself is not offered"
    assert f"Co-hosted: qpdar[.]pw → {len(CO_HOSTED)} results" in hosted
    assert listed(hosted) == shown(CO_HOSTED)
    assert "risk 80" in hosted, "random-looking neighbours are scored on the page"
    assert f"Registrant's domains: qpdar[.]pw → {len(HIS_OWN)} results" in owned
    assert listed(owned) == shown(HIS_OWN)
