"""Stage 6, dedup: each story once, across pages and runs; changed stories as new versions;
near-duplicates marked."""
