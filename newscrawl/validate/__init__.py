"""Stage 5, validate: a story record with broken text or failing the schema goes to
quarantine, not to the output."""
