"""is_placeholder: withheld registrant data is recognised; real data is kept."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enrichment.redaction import is_placeholder

PLACEHOLDERS = [
    "REDACTED FOR PRIVACY",
    "Redacted | EU Data Subject",
    "Data Protected",
    "DATA PROTECTED, NOT DISCLOSED",
    "Not Disclosed",
    "Personal data, can not be publicly disclosed",
    "Statutory Masking Enabled",
    "GDPR Masked",
    "Non-Public Data",
    "Please query the RDDS service of the Registrar of Record identified in this output",
    "Select Request Email Form at https://domains.example/registrar/contact",
    "https://www.registrar.example/whois-contact?domain=quiet.com",
    "www.whoisprivacy.example",
    "Domains By Proxy, LLC",
    "DomainsByProxy.com",
    "WhoisGuard, Inc.",
    "Withheld for Privacy ehf",
    "Contact Privacy Inc. Customer 0123456789",
    "PrivacyGuardian.org llc",
    "Perfect Privacy, LLC",
    "Identity Protection Service",
    "Domain Protection Services, Inc.",
    "Anonymize, Inc.",
    "On behalf of quiet.com owner",
    "Private Person",
    "Registration Private",
    "HIDDEN!",
    "Redacted",
    "n/a",
    "N/A.",
    "-",
    "*****",
    "",
    "   ",
    "4d6f3a2b@contact-privacy.com",
    "quiet.com@whoisprivacy.example",
    "c2f1a7@withheldforprivacy.com",
    "owner-1234@domainsbyproxy.com",
    "x@protecteddomainservices.com",
    "redacted@registrar.example",
]
REAL = [
    "Gennadiy Vorontsov",
    "Aleksei Petrov",
    "vorontsov.gennadiy@yandex.ru",
    "abuse@hostkeep.nl",
    "Hostkeep B.V.",
    "Acme Private Limited",
    "Hidden Valley Farms",
    "Northwind Hosting, LLC",
    "RU",
    "ООО Ромашка",
    "<!channel> Holdings",
]


@pytest.mark.parametrize("text", PLACEHOLDERS)
def test_placeholders(text: str) -> None:
    assert is_placeholder(text)
    assert is_placeholder(f"  {text.upper()}  ")


@pytest.mark.parametrize("text", REAL)
def test_real_values(text: str) -> None:
    assert not is_placeholder(text)


@given(st.text(max_size=300))
def test_any_text_gets_an_answer(text: str) -> None:
    assert isinstance(is_placeholder(text), bool)
