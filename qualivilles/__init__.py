"""What kiosk, tablet and server must agree on, written once.

The wire protocol and the device configuration, survey definitions and their flow, answer
validation and derivation (free-text scrubbing included), the fold of a visit's events, per-visit
links and opening hours. Pure: this package imports no Kivy, web framework, database driver or
HTTP client, so both sides import it and neither imports the other.
"""
