"""The platform layer: settings, database engines, the Temporal connection, child processes
and throwaway PostgreSQL clusters. It imports nothing of ours."""
