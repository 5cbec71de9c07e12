"""Privacy requests: their audit log."""
