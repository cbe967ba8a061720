"""Digital Product Passports (UNTP) of the district's garments.

Plain Python: `facts` derives what a passport states from a product's warehouse rows,
`untp` writes the public and restricted JSON-LD views, `build` versions them in the `passports`
table and under the data folder, `site` makes the pages; `assets` wraps it for Dagster.
"""
