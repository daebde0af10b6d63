"""Visitors' comments as staff read them: triage before anyone reads them, who reads what, and
the verbatims reports quote."""
