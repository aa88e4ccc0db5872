"""Where the project's files live: sources, ontology, shapes and build output."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = Path(__file__).resolve().parent / "sources"
ARTICLE = SOURCES / "article-east-west-st-2022.txt"
ONTOLOGY = ROOT / "ontology" / "policykg.ttl"
SHAPES = ROOT / "shapes" / "policykg.ttl"
BUILD = ROOT / "build"
STORE = BUILD / "store"
DUMPS = BUILD / "dumps"
