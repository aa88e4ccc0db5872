"""policykg: a knowledge graph of Chinese government science-and-technology policy."""

__version__ = "0.1.0"
