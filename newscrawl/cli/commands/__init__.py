"""Scrapy commands that newscrawl replaces (enabled by COMMANDS_MODULE in settings)."""
