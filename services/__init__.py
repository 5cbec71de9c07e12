"""Client side of the workflows: start exactly once, signal, update, query, schedules."""
