"""A real Tryton ERP on this machine: its own virtual environment, a throwaway PostgreSQL
cluster from the machine's binaries, a seeded database cached as a dump, and `trytond`."""
