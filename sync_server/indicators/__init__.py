"""Qualivilles indicators: pure formulas, and the monthly computation over storage aggregates."""
