"""Connector kinds by name: adding a kind means one module and one line here."""

from __future__ import annotations

from connectors.csv_files import CsvConnector

CONNECTORS: dict[str, type] = {
    "csv": CsvConnector,
}
