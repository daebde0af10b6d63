"""Qualivilles indicators per site × service × period.

`formulas` (every formula, pure) ← `figures` (a desk's figures: minimum N, previous, target)
← `pipeline` (the one computation, over `facts` read from storage for a `query`'s period,
`periods` and `targets`).
"""
