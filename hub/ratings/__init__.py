"""Company ratings, district benchmark and their pages, computed on the harmonized tables.

- `methodology`: the rating method as data (methodology/ratings.yaml), loaded and checked.
- `indicators`: the registry of named indicator functions the method picks with parameters.
- `data`: the warehouse rows a rating reads, one firm's rows apart from another's.
- `scoring`: indicator values → scores, criteria, grades, evidence and improvement path.
- `benchmark`: a firm's percentile among anonymized peers, district-wide and within its role.
- `store`: ratings and benchmarks written per date, with the change since the last rating.
- `pages`: the static district report and one page per firm (inline SVG, no script).

Plain Python: the Dagster assets in `hub.definitions` call `hub.ratings.refresh`.
"""
