"""Stage 8, run: the run's memory and envelope: crawl state, seen store, page tracker,
ledger (publication, manifests, recovery), lock, verdict, progress, settings check."""
