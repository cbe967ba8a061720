"""Connectors: plain Python (no Dagster) readers of firms' sources.

A connector checks a source, discovers what it offers and reads entities as Arrow tables of text
columns; file sources (where bytes come from) are kept apart from parsers (how they are read).
"""
