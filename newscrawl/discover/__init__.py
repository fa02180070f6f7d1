"""Stage 1, discover: the spiders that find article pages (feeds, sitemaps, sections, links),
their ``-a`` arguments, and the filter that lets each article request out once."""
