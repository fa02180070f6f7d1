"""Stage 7, export: story records to the run's JSON Lines file; datasets from the
published files."""
