"""Stage 4, stories: a page record becomes the stories it holds (split, fields, times).
Pure but for ``middleware.py``, which runs the stage in Scrapy."""
