"""District data hub: firms' ERP exports to validated, harmonized district tables."""
