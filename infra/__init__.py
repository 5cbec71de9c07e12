"""Runtime plumbing: settings, Temporal connection, local services."""
