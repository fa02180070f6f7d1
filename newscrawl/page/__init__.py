"""Stage 3, page: a fetched page's HTML becomes its page record (text blocks with their
markup hints). Pure: no Scrapy."""
