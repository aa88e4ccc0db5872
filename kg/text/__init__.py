"""Text repair: the raw article made clean simplified Chinese, with an offset map back to the raw text."""
