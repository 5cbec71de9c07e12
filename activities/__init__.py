"""Thin activities: call one adapter, classify its errors (see `activities.errors`)."""
