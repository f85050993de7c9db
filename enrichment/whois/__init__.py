"""WHOIS over port 43: the asyncio client (referrals, rate limits) and the record parser."""
