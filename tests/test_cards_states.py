"""What cards say about how a lookup went: no promised score, honest failures and absences,
where a name is hosted, both spellings of an IDN, summaries ordered by what matters."""

from __future__ import annotations

from datetime import date, timedelta

from bot.render.cards import report_card, summary_card
from bot.render.states import NOT_REGISTERED, UNREACHABLE, age_words
from enrichment.indicators import make_indicator
from enrichment.model import Indicator, Kind, Reason, Report, Risk, SourceResult, Status
from tests.test_cards import Keys, all_text, assert_safe_card

QPDAR = make_indicator(Kind.DOMAIN, "qpdar.pw")


def result(name: str, status: Status, detail: str | None = None) -> SourceResult:
    return SourceResult(name, status, detail=detail, elapsed_ms=1200)


def test_an_unscored_card_promises_no_score() -> None:
    message = report_card(
        Report(QPDAR, {"dns": result("dns", Status.OK)}, {"a": ["1.2.3.4"]}), Keys()
    )
    assert "scored" not in all_text(message) and "Risk" not in all_text(message)
    assert "scored" not in message.text


def test_the_footer_names_each_failed_source_with_its_reason() -> None:
    results = {
        "dns": result("dns", Status.OK),
        "whois": result("whois", Status.TIMEOUT, "no answer in 3 s"),
        "rdap": result("rdap", Status.ERROR, "HTTP 500"),
        "asn": result("asn", Status.TIMEOUT, "no answer before the card's deadline"),
        "crtsh": result("crtsh", Status.SKIPPED, "on request only"),
    }
    message = report_card(Report(QPDAR, results, {"a": ["1.2.3.4"]}), Keys())
    footer = message.blocks[-1]["elements"][0]["text"]
    assert "whois: timeout after 3 s" in footer
    assert "rdap: error (HTTP 500)" in footer
    assert "asn: timeout (the card's deadline)" in footer
    assert "crtsh" not in footer
    assert UNREACHABLE not in all_text(message)


def test_when_every_source_fails_the_card_says_so_once() -> None:
    results = {n: result(n, Status.ERROR, "connection failed") for n in ("dns", "rdap", "whois")}
    message = report_card(Report(QPDAR, results, {}), Keys())
    text = all_text(message)
    assert text.count("unreachable") == 1
    assert "connection failed" not in text  # not a list of the same error three times
    assert_safe_card(message)


def test_an_unregistered_domain_says_so() -> None:
    name = make_indicator(Kind.DOMAIN, "never-registered.pw")
    results = {
        "dns": result("dns", Status.EMPTY, "NXDOMAIN: no such domain"),
        "rdap": result("rdap", Status.EMPTY, "not registered (404)"),
        "whois": result("whois", Status.EMPTY, "whois.nic.pw has no record"),
    }
    assert NOT_REGISTERED in all_text(report_card(Report(name, results, {}), Keys()))
    results["whois"] = result("whois", Status.OK)  # WHOIS knows it: not "not registered"
    assert NOT_REGISTERED not in all_text(report_card(Report(name, results, {}), Keys()))


def test_a_domain_card_says_where_it_is_hosted_and_who_takes_abuse_reports() -> None:
    facts = {
        "a": ["212.61.180.100"],
        "hosting_ip": "212.61.180.100",
        "hosting_asn": 60117,
        "hosting_as_name": "BULLETHOST-AS",
        "hosting_country": "NL",
        "hosting_network": "212.61.180.0/24",
        "registrar_abuse_email": "abuse@registrar.example",
    }
    message = report_card(Report(QPDAR, {}, facts), Keys())
    text = all_text(message)
    assert "*Hosted at*\n`212[.]61[.]180[.]100` · `AS60117` · `BULLETHOST-AS` · `NL`" in text
    assert "`212[.]61[.]180[.]0/24`" in text
    assert "*Registrar abuse*\n`abuse@registrar[.]example`" in text
    assert_safe_card(message)


def test_an_idn_lookalike_shows_both_spellings() -> None:
    lookalike = make_indicator(Kind.DOMAIN, "xn--pypal-4ve.com")  # Cyrillic а in "paypal"
    assert lookalike.defanged == "xn--pypal-4ve[.]com"
    message = report_card(Report(lookalike, {}, {}), Keys())
    text = all_text(message)
    assert message.blocks[0]["text"]["text"].startswith("xn--pypal-4ve[.]com")
    assert "*Looks like (Unicode)*\n`pаypal[.]com`" in text
    assert ":warning:" in text
    plain = report_card(Report(QPDAR, {}, {}), Keys())
    assert "Unicode" not in all_text(plain)
    assert_safe_card(message)


def scored(value: str, score: int | None, *, failed: bool = False) -> Report:
    ind = make_indicator(Kind.DOMAIN, value)
    status = Status.ERROR if failed else Status.OK
    results = {n: result(n, status, "x") for n in ("dns", "rdap")}
    facts = {} if failed else {"a": ["1.2.3.4"]}
    risk = Risk(score, (Reason("r", score, "why"),) if score is not None else ())
    return Report(ind, results, facts, risk)


def test_a_summary_puts_what_matters_first_and_failures_last() -> None:
    reports = [
        scored("first-pasted.pw", None, failed=True),
        scored("plain.pw", None),
        scored("risky.pw", 80),
        scored("riskier.pw", 95),
    ]
    text = all_text(summary_card(reports, Keys()))
    order = [text.index(name) for name in ("riskier", "risky[", "plain", "first-pasted")]
    assert order == sorted(order)
    assert "_no source answered_" in text
    assert "no answer yet" not in text


def test_dates_come_with_their_age() -> None:
    today = date.today()
    created = (today - timedelta(days=12)).isoformat()
    report = Report(QPDAR, {"rdap": result("rdap", Status.OK)}, {"created": created})
    assert f"`{created}` (12 days old)" in all_text(summary_card([report], Keys()))
    assert "(12 days old)" in all_text(report_card(report, Keys()))
    assert age_words("2016-02-03", today=date(2026, 12, 5)) == "10 years old"
    assert age_words("2026-12-04", today=date(2026, 12, 5)) == "1 day old"
    assert age_words("2030-01-01", today=date(2026, 12, 5)) is None
    assert age_words("not a date") is None


def test_an_indicator_kind_no_source_serves_says_so_in_a_summary() -> None:
    digest = Indicator(
        Kind.MD5, "d41d8cd98f00b204e9800998ecf8427e", "d41d8cd98f00b204e9800998ecf8427e"
    )
    report = Report(digest, {"dns": result("dns", Status.SKIPPED, "not for md5")}, {})
    assert "_no source for this kind_" in all_text(summary_card([report], Keys()))
