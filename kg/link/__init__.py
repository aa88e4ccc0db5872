"""Linking: reconciliation of place names with offline official tables, and the links graph."""
