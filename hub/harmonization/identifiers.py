"""Identifiers: VAT numbers and GTINs, validated with python-stdnum, always kept as text.

The row rules that reject invalid ones are in `hub.quality` (`suppliers.vat_valid`,
`products.gtin_valid`); this module reuses those checks to normalize what passed them.
"""

from __future__ import annotations

import re

from stdnum import ean
from stdnum.eu import vat as eu_vat
from stdnum.it import iva as it_iva

from hub.quality import is_valid_gtin, is_valid_vat_number

__all__ = ["is_valid_gtin", "is_valid_vat_number", "normalize_gtin", "normalize_vat"]


def normalize_vat(vat: str | None, country: str | None = "IT") -> str | None:
    """A VAT number with its country prefix ('IT01234567890'), or None when not valid."""
    if not vat:
        return None
    compact = re.sub(r"[\s.\-/]", "", vat).upper()
    if compact[:2].isalpha() and eu_vat.is_valid(compact):
        return eu_vat.compact(compact)
    if (country or "IT").upper() == "IT" and it_iva.is_valid(compact):
        return "IT" + it_iva.compact(compact)
    if is_valid_vat_number(compact):  # a non-EU VAT number python-stdnum knows (GB, CH, NO…)
        return compact
    return None


def normalize_gtin(gtin: str | None) -> str | None:
    """A GTIN as 14 digits (leading zeros kept), or None when its check digit is wrong."""
    if not gtin or not is_valid_gtin(gtin):
        return None
    return ean.compact(gtin).zfill(14)
