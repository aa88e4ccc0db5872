"""The source manifest (kg/sources/sources.toml): which files the project ships, their kind, addresses and licence,
and the plan slugs pinned by normalised title."""

import tomllib
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from kg.paths import MANIFEST, SOURCES

KINDS = ("news report", "official text", "outline of the official text")
# the characters a title is printed with that do not make it another title: book-title marks and quote styles
_MARKS = str.maketrans("", "", "《》〈〉「」『』“”‘’\"'")


@dataclass(frozen=True)
class Source:
    """One source document: its file, the slug that names it, its kind and where it was read."""

    path: Path
    slug: str
    kind: str | None  # None: not in the manifest, the kind is read from the text
    urls: tuple[str, ...] = ()
    retrieved: date | None = None
    licence: str | None = None
    plan: str | None = None  # the plan's slug, only where the text does not let it be derived


def normalised_title(title: str) -> str:
    """A plan title as matched: full-width and half-width forms unified, marks, quotes and whitespace dropped.

    >>> normalised_title("《“十五五” 示例合作实施方案》") == normalised_title('"十五五"示例合作实施方案')
    True
    """
    return "".join(unicodedata.normalize("NFKC", title).translate(_MARKS).split())


@lru_cache(maxsize=4)
def _load(path: Path = MANIFEST) -> dict:
    with Path(path).open("rb") as handle:
        data = tomllib.load(handle)
    for entry in data.get("source", []):
        if entry["kind"] not in KINDS:
            raise ValueError(f"{path}: {entry['file']}: kind {entry['kind']!r} is none of {KINDS}")
    return data


def shipped() -> tuple[Source, ...]:
    """Every source of the manifest, in its order: the default build."""
    return tuple(_entry(e) for e in _load().get("source", []))


def plan_slugs() -> dict[str, str]:
    """Normalised plan title → the slug the manifest pins for it."""
    return {normalised_title(p["title"]): p["slug"] for p in _load().get("plan", [])}


def source_for(path: Path) -> Source:
    """The manifest's entry for a file (matched by name), else a source named by the file name, kind unknown."""
    path = Path(path)
    for entry in _load().get("source", []):
        if entry["file"] == path.name:
            return _entry(entry, path)
    return Source(path, path.stem.lower().replace("_", "-"), None)


def _entry(entry: dict, path: Path | None = None) -> Source:
    return Source(path or Path(str(SOURCES / entry["file"])), entry["slug"], entry["kind"], tuple(entry.get("urls", ())),
                  entry.get("retrieved"), entry.get("licence"), entry.get("plan"))
