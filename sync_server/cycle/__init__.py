"""The Qualivilles cycle beyond the surveys, as pure rules: the referential's engagements and the
certified scope (`referential`), improvement actions as a plan (`plan`), and the effect of an
action measured before and after it (`effect`). Storage and pages call these; none of them
reads a database."""
