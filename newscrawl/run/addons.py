"""Scrapy add-ons of the run stage: settings that Scrapy's settings module cannot say."""

from scrapy.settings import BaseSettings

REMOTE_CONTROL = "scrapy.extensions.remote_control.RemoteControl"


class WithoutRemoteControl:
    """Leaves Scrapy's remote-control extension out of the extensions' base.

    REMOTE_CONTROL_ENABLED=False keeps its port closed, but Scrapy still imports every
    listed extension, None or not, and this one brings aiohttp: 10 MB of a crawl's
    memory. Done here, not in newscrawl/settings.py, so that the settings module stays
    plain data and keeps up with the base list of whichever Scrapy is installed.
    """

    def update_settings(self, settings: BaseSettings) -> None:
        base = settings.getdict("EXTENSIONS_BASE")
        if REMOTE_CONTROL in base:
            del base[REMOTE_CONTROL]
            settings.set("EXTENSIONS_BASE", base, priority="addon")
