"""Unhappy-answers alerts: the rule that decides (`rule`) and the loop that sends (`delivery`)."""
