"""Qualivilles indicators per site × service × period.

`formulas` (every formula, pure) ← `figures` (a desk's figures: minimum N, previous, target,
with the unit and what N counts of `catalogue`) ← `pipeline` (the one computation, over `facts`
read from storage for a `query`'s period, `periods` and `targets`).
"""
