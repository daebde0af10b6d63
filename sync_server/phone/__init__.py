"""The anonymous phone survey: its pages, answers, abuse guard and per-visit links."""
