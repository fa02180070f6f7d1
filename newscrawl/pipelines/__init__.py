"""Item pipeline stages, one module each, in the order they run (see settings):
dedup (300), then export (900)."""
