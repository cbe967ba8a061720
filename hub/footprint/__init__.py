"""Environmental footprint of garments by Ecobalyse's public textile method (plain Python).

`footprint(query)` takes an Ecobalyse-style query (the body of `POST /api/textile/simulator`)
and returns the environmental cost in points, total and per stage, with the assumptions made.
"""

from hub.footprint.method import Footprint, compute, footprint
from hub.footprint.query import FootprintQueryError, parse_query

__all__ = ["Footprint", "FootprintQueryError", "compute", "footprint", "parse_query"]
