"""Find indicators in free text. (Being written: see issue 2.)"""

from __future__ import annotations

from enrichment.model import Indicator, Kind

__all__ = [
    "Indicator",
    "Kind",
    "defang",
    "extract_indicators",
    "make_indicator",
    "registered_domain",
]


def extract_indicators(text: str) -> list[Indicator]:
    raise NotImplementedError


def defang(kind: Kind, value: str) -> str:
    raise NotImplementedError


def make_indicator(kind: Kind, value: str) -> Indicator:
    raise NotImplementedError


def registered_domain(domain: str) -> str | None:
    raise NotImplementedError
