"""Harnesses for tests, history recording and benchmarks; never imported by the product."""
