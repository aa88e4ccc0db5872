"""Extraction: clean text to plain dataclasses, by the genre's patterns and the gazetteer (no RDF here)."""
