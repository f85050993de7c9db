"""Well-known shared infrastructure: sharing it with a bad domain says nothing.

A CDN, a cloud or a big DNS or mail provider hosts millions of domains, some of them bad, so
"shares an IP / a name server with a listed domain" is evidence only off these. Matched by
the AS name of the address (Team Cymru's, on the card) and by the name server's registrable
domain (or how many domains the index sees on it); a registrant e-mail by how many domains
use it.
"""

from __future__ import annotations

from enrichment.indicators import registered_domain

# Words in the AS names of providers whose addresses front many unrelated customers.
SHARED_AS_WORDS = (
    "CLOUDFLARE",
    "AKAMAI",
    "FASTLY",
    "AMAZON",
    "GOOGLE",
    "MICROSOFT",
    "EDGECAST",
    "LIMELIGHT",
    "INCAPSULA",
    "IMPERVA",
    "STACKPATH",
    "DIGITALOCEAN-CDN",
    "AUTOMATTIC",
    "SQUARESPACE",
    "WIX",
    "SHOPIFY",
    "GITHUB",
    "NETLIFY",
    "VERCEL",
    "OVH",
    "HETZNER-CLOUD",
)
# Registrable domains of name servers that serve a large part of the internet.
SHARED_NS_DOMAINS = frozenset(
    {
        "cloudflare.com",
        "awsdns-00.com",
        "domaincontrol.com",
        "googledomains.com",
        "google.com",
        "azure-dns.com",
        "azure-dns.net",
        "nsone.net",
        "ultradns.com",
        "ultradns.net",
        "dnsmadeeasy.com",
        "registrar-servers.com",
        "name-services.com",
        "dynect.net",
        "akam.net",
        "wixdns.net",
        "squarespacedns.com",
        "hostgator.com",
        "bluehost.com",
        "digitalocean.com",
        "linode.com",
        "he.net",
        "namecheaphosting.com",
        "porkbun.com",
        "gandi.net",
        "ovh.net",
        "hetzner.com",
        "ionos.com",
        "dns.com",
    }
)
SHARED_NS_COUNT = 5000  # a name server the index sees on more domains than this is shared
SHARED_REGISTRANT_COUNT = 20000  # a registrant e-mail on more domains: a registrar's or proxy's


def shared_as(as_name: object) -> bool:
    text = str(as_name or "").upper()
    return any(word in text for word in SHARED_AS_WORDS)


def shared_ns(host: str, domains_on_it: int = 0) -> bool:
    registered = registered_domain(host) or host
    awsdns = registered.startswith("awsdns-")
    return awsdns or registered in SHARED_NS_DOMAINS or domains_on_it > SHARED_NS_COUNT


def shared_registrant(domains_on_it: int) -> bool:
    """A registrant e-mail the index sees on a registrar's worth of domains (a reseller's, a
    proxy's): sharing it is no link between their owners. Privacy services' relay addresses
    are not looked at at all (`enrichment.redaction.is_placeholder`)."""
    return domains_on_it > SHARED_REGISTRANT_COUNT
