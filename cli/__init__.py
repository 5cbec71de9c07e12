"""Command-line front of `starter.py`: demo, run, and the support commands."""
