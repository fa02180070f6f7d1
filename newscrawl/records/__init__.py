"""The records the stages pass on: the page record, the story record, its JSON Schema,
and what a record must be to be published."""
