"""Harmonization helpers: fibres, units, places, supplier resolution, supply chains, history.

Each module is table-driven where it can be: names, abbreviations and places are data files
under `hub/harmonization/data/`, not code. `hub.harmonize.harmonize` turns one firm's staged
batch into warehouse rows with them; the district-level steps (supplier resolution, supply
chains, history) run over the whole warehouse.
"""
