"""Content negotiation: the one place that maps Accept / ?format= to a pyoxigraph format."""

import functools
from dataclasses import dataclass

import pyoxigraph as ox
from flask import Request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from server.errors import BadRequest, NotAcceptable
from server.sparql.protocol import present


@dataclass(frozen=True)
class Format:
    """One serialisation on offer: its media type, ?format= names and pyoxigraph format name."""

    media_type: str
    names: tuple[str, ...]
    family: str  # "results" (SELECT/ASK) or "rdf" (CONSTRUCT/DESCRIBE, service description)
    ox_name: str  # attribute of pyoxigraph.QueryResultsFormat / RdfFormat

    @property
    def content_type(self) -> str:
        """Media type with charset=utf-8 on every text type (all of ours are UTF-8 text)."""
        return f"{self.media_type}; charset=utf-8"

    def ox(self):
        """The pyoxigraph format object (not picklable, so looked up where it is used)."""
        enum = ox.QueryResultsFormat if self.family == "results" else ox.RdfFormat
        return getattr(enum, self.ox_name)


# Order matters: the first entry of each family is the default for `*/*` or no Accept header.
RESULTS = (
    Format("application/sparql-results+json", ("json", "srj"), "results", "JSON"),
    Format("application/sparql-results+xml", ("xml", "srx"), "results", "XML"),
    Format("text/csv", ("csv",), "results", "CSV"),
    Format("text/tab-separated-values", ("tsv",), "results", "TSV"),
)
RDF = (
    Format("text/turtle", ("turtle", "ttl"), "rdf", "TURTLE"),
    Format("application/n-triples", ("ntriples", "nt"), "rdf", "N_TRIPLES"),
    Format("application/rdf+xml", ("rdfxml", "rdf", "xml"), "rdf", "RDF_XML"),
    Format("application/ld+json", ("jsonld", "json"), "rdf", "JSON_LD"),
    Format("application/trig", ("trig",), "rdf", "TRIG"),
    Format("application/n-quads", ("nquads", "nq"), "rdf", "N_QUADS"),
)
# Media types clients send that mean one of ours (aliases, not offered by name).
ALIASES = {"application/json": "application/sparql-results+json", "application/xml": "application/sparql-results+xml",
           "text/xml": "application/sparql-results+xml", "text/plain": "application/n-triples"}
HTML = "text/html"
ALL_NAMES = {name for fmt in RESULTS + RDF for name in fmt.names}


def _from_format_param(value: str, offers: tuple[Format, ...]) -> Format | None:
    """?format= by short name or media type; None when this family has no such format."""
    value = value.strip().lower()
    value = ALIASES.get(value, value)
    for fmt in offers:
        if value in fmt.names or value == fmt.media_type:
            return fmt
    if value in ALL_NAMES or "/" in value:
        return None
    raise BadRequest(f"unknown format {value!r}; names: {', '.join(sorted(ALL_NAMES))}")


def negotiate(request: Request, offers: tuple[Format, ...], params=None) -> Format | None:
    """The best format of `offers` for this request, or None when nothing is acceptable.

    `params` are the protocol parameters (URL and form body); ?format= there overrides Accept.
    """
    param = present(request.args if params is None else params, "format")
    if param:
        return _from_format_param(param, offers)
    return _best(request.headers.get("Accept", ""), offers)


@functools.lru_cache(maxsize=512)
def _best(header: str, offers: tuple[Format, ...]) -> Format | None:
    """Werkzeug's q-value matching, memoised: clients send the same few Accept headers over and over."""
    accept = parse_accept_header(header, MIMEAccept)
    if not accept:
        return offers[0]
    candidates = [fmt.media_type for fmt in offers]
    candidates += [alias for alias, target in ALIASES.items() if target in candidates]
    best = accept.best_match(candidates)
    if best is None:
        return None
    best = ALIASES.get(best, best)
    return next(fmt for fmt in offers if fmt.media_type == best)


def require(fmt: Format | None, offers: tuple[Format, ...]) -> Format:
    """`fmt`, or a 406 naming what is on offer."""
    if fmt is None:
        raise NotAcceptable("no acceptable format; on offer: " + ", ".join(f.media_type for f in offers))
    return fmt


def by_name(family: str, name: str) -> Format:
    """Look a format up by family and pyoxigraph name (used with what a worker sends back)."""
    return next(f for f in RESULTS + RDF if f.family == family and f.ox_name == name)
