"""The staff pages: one router per resource, signed-in users only (see `web.access`)."""
