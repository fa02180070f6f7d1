"""newscrawl's spiders: one short module per site, on the shared ``NewsSpider``."""
