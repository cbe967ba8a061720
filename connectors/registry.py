"""Connector kinds by name: adding a kind means one module and one line here."""

from __future__ import annotations

from connectors.csv_files import CsvConnector
from connectors.sql import SqlConnector
from connectors.tryton import TrytonConnector

CONNECTORS: dict[str, type] = {
    "csv": CsvConnector,
    "sql": SqlConnector,
    "tryton": TrytonConnector,
}
