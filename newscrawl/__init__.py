"""newscrawl: a scheduled news crawler that turns news sites into clean, story-level datasets."""

__version__ = "0.1.0"
