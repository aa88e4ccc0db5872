"""The whole build: article → normalize → extract → RDF → links → SHACL gate → store, dumps and description."""

import hashlib
import os
import subprocess
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rdflib import Dataset

from kg.extract.article import ExtractionError, extract
from kg.extract.model import Article
from kg.link.places import LinkReport, link
from kg.paths import ARTICLE, BUILD, ROOT, SOURCES
from kg.publish.validate import Validation, validate
from kg.rdf.build import DEFAULT_BASE, build_dataset
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

    text: Text
    article: Article
    dataset: Dataset
    links: LinkReport
    validation: Validation
    store: Path
    dumps: tuple[Path, ...]


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
    """The slug that names an article in IRIs: from kg/sources/articles.toml, else the file name."""
    with (SOURCES / "articles.toml").open("rb") as handle:
        known = {entry["file"]: entry["slug"] for entry in tomllib.load(handle)["article"]}
    return known.get(Path(path).name, Path(path).stem.lower().replace("_", "-"))


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


def assemble(*, input_path: Path = ARTICLE, base: str = DEFAULT_BASE, build_time: datetime | None = None
             ) -> tuple[Text, Article, Dataset, LinkReport]:
    """Read, normalise, extract, build and link: the dataset before the gate."""
    raw = read_article(input_path)
    text = normalize(raw)
    try:
        article = extract(text, slug=slug_for(input_path))
    except ExtractionError as error:
        raise InputError(f"{input_path}: {error}") from None
    dataset = build_dataset(article, text, base=base, build_time=build_time or default_build_time(),
                            input_sha256=hashlib.sha256(raw.encode("utf-8")).hexdigest())
    return text, article, dataset, link(dataset, article, base=base)


def build(*, input_path: Path = ARTICLE, out_dir: Path = BUILD, base: str = DEFAULT_BASE,
          build_time: datetime | None = None, mutate: Callable[[Dataset], None] | None = None) -> BuildResult:
    """Build, check and write: raises NonConforming (writing nothing) when the graph fails the shapes, and
    kg.publish.staging.OutputError (changing nothing) when the output cannot be written.

    `mutate` changes the dataset just before the gate; tests use it to prove the gate holds.
    """
    from kg.publish.step import STORE, publish

    build_time = build_time or default_build_time()
    text, article, dataset, links = assemble(input_path=input_path, base=base, build_time=build_time)
    if mutate:
        mutate(dataset)
    validation = validate(dataset)
    if not validation.conforms:
        raise NonConforming(validation)
    dumps = publish(dataset, base=base, build_time=build_time, out=Path(out_dir))
    return BuildResult(text, article, dataset, links, validation, Path(out_dir) / STORE, tuple(dumps))
