"""The whole build: sources → normalize → extract → RDF → links → SHACL gate → store, dumps and description."""

import hashlib
import os
import subprocess
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rdflib import Dataset

from kg.extract.article import ExtractionError, extract
from kg.extract.model import Article
from kg.link.places import LinkReport, link
from kg.manifest import Source, normalised_title, plan_slugs, shipped, source_for
from kg.paths import BUILD, ROOT
from kg.publish.validate import Validation, validate
from kg.rdf.build import DEFAULT_BASE, SourceText, build_sources
from kg.text.normalize import Text, normalize


class InputError(ValueError):
    """The input file cannot be read as an article reporting a plan."""


class NonConforming(Exception):
    """The built graph does not conform to the shapes: nothing was written."""

    def __init__(self, validation: Validation):
        super().__init__("the graph does not conform to the shapes")
        self.validation = validation


@dataclass(frozen=True)
class BuildResult:
    """What a build made and where it wrote it."""

    sources: tuple[SourceText, ...]
    dataset: Dataset
    links: LinkReport
    validation: Validation
    store: Path
    dumps: tuple[Path, ...]

    @property
    def text(self) -> Text:
        """The first source's repaired text."""
        return self.sources[0].text

    @property
    def article(self) -> Article:
        """The first source's extraction."""
        return self.sources[0].article


def read_article(path: Path) -> str:
    """The article's text; a one-line InputError when it is missing, empty or not UTF-8."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not an article file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 (byte {error.start} is 0x{data[error.start]:02x})") from None
    if not raw.strip():
        raise InputError(f"{path}: the file is empty")
    return raw


def slug_for(path: Path) -> str:
    """The slug that names a source in IRIs: from the manifest (kg/sources/sources.toml), else the file name."""
    return source_for(path).slug


def read_source(source: Source) -> tuple[Text, Article, str]:
    """One source read, repaired and extracted: (text, article, SHA-256 of its bytes)."""
    raw = read_article(source.path)
    text = normalize(raw)
    try:
        article = extract(text, slug=source.slug)
    except ExtractionError as error:
        raise InputError(f"{source.path}: {error}") from None
    return text, article, hashlib.sha256(raw.encode("utf-8")).hexdigest()


def read_sources(sources: Sequence[Source]) -> list[SourceText]:
    """Every source read, each given the slug of the plan it reports: one plan per normalised title (and document
    number where two sources print one), its slug pinned by the manifest, else the first source's that names it."""
    plans: list[dict] = []  # {"title", "number", "slug"} in order of first mention
    pinned, read = plan_slugs(), []
    for source in sources:
        if any(r.source.slug == source.slug for r in read):
            raise InputError(f"{source.path}: the source {source.slug!r} is given twice")
        text, article, sha = read_source(source)
        title, number = normalised_title(article.plan.title), _number(article)
        # one title, and no two different document numbers: the same plan
        plan = next((p for p in plans if p["title"] == title and (None in (p["number"], number)
                                                                   or p["number"] == number)), None)
        if plan is None:
            taken = {p["slug"] for p in plans}
            slug = next((s for s in (source.plan, pinned.get(title), source.slug) if s and s not in taken), None)
            if slug is None:
                raise InputError(f"{source.path}: no free slug for the plan {article.plan.title!r}")
            plan = {"title": title, "number": number, "slug": slug}
            plans.append(plan)
        plan["number"] = plan["number"] or number
        kind = source.kind or ("official text" if article.news.kind == "official" else "news report")
        read.append(SourceText(source, text, article, sha, kind, plan["slug"]))
    return read


_BRACKETS = str.maketrans("[]［］【】", "〔〕〔〕〔〕")  # the year's brackets as reprints print them


def _number(article: Article) -> str | None:
    """The document number as matched: full-width and half-width forms and the year's brackets unified, no spaces.

    A reprint that prints 国科发X[YYYY]N号 names the same document as 国科发X〔YYYY〕N号.
    """
    number = article.plan.document_number
    return "".join(unicodedata.normalize("NFKC", number.quote).translate(_BRACKETS).split()) if number else None


def default_build_time() -> datetime:
    """SOURCE_DATE_EPOCH (reproducible-builds.org), else the checkout's last commit time, else now: rebuilds stay identical."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None and (ROOT / ".git").exists():  # a checkout; an installed kg must not read some other repository
        try:
            epoch = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%ct"], capture_output=True,
                                   text=True, check=True, timeout=10).stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            epoch = None
    return datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Corpus:
    """Every source as read, in input order, and what linking the whole dataset did."""

    sources: tuple[SourceText, ...]
    links: LinkReport


def assemble(*, inputs: Sequence[Path] | None = None, input_path: Path | None = None, base: str = DEFAULT_BASE,
             build_time: datetime | None = None) -> tuple[Text, Article, Dataset, Corpus]:
    """Read, normalise, extract, build and link every source given (default: the manifest's), before the gate:
    (the first source's text, its article, the dataset of all sources, the corpus read)."""
    paths = [input_path] if input_path else inputs
    read = read_sources([source_for(Path(p)) for p in paths] if paths else list(shipped()))
    dataset = build_sources(read, base=base, build_time=build_time or default_build_time())
    links = link(dataset, tuple(r.article for r in read), base=base)
    return read[0].text, read[0].article, dataset, Corpus(tuple(read), links)


def build(*, inputs: Sequence[Path] | None = None, input_path: Path | None = None, out_dir: Path = BUILD,
          base: str = DEFAULT_BASE, build_time: datetime | None = None,
          mutate: Callable[[Dataset], None] | None = None) -> BuildResult:
    """Build one graph from every source given (default: the manifest's), check and write: raises NonConforming
    (writing nothing) when the graph fails the shapes, and kg.publish.staging.OutputError (changing nothing) when
    the output cannot be written.

    `mutate` changes the dataset just before the gate; tests use it to prove the gate holds.
    """
    from kg.publish.step import STORE, publish

    build_time = build_time or default_build_time()
    _, _, dataset, corpus = assemble(inputs=inputs, input_path=input_path, base=base, build_time=build_time)
    if mutate:
        mutate(dataset)
    validation = validate(dataset)
    if not validation.conforms:
        raise NonConforming(validation)
    dumps = publish(dataset, base=base, build_time=build_time, out=Path(out_dir))
    return BuildResult(corpus.sources, dataset, corpus.links, validation, Path(out_dir) / STORE, tuple(dumps))
