"""The composition root: the one place implementations are chosen and wired (the workers,
the ingest service behind the webhooks app and the CLI)."""
