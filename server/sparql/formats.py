"""Content negotiation: the one place that maps Accept / ?format= / ?output= to a pyoxigraph format."""

import functools
from dataclasses import dataclass

import pyoxigraph as ox
from flask import Request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from server.errors import NotAcceptable


@dataclass(frozen=True)
class Format:
    """One serialisation on offer: its media type, ?format= names, other media types for it, pyoxigraph name."""

    media_type: str
    names: tuple[str, ...]  # short names for ?format= / ?output=; the first is the one our own links use
    family: str  # "results" (SELECT/ASK) or "rdf" (CONSTRUCT/DESCRIBE, service description)
    ox_name: str  # attribute of pyoxigraph.QueryResultsFormat / RdfFormat
    aliases: tuple[str, ...] = ()  # media types clients send that mean this one (in Accept and in ?format=)

    @property
    def content_type(self) -> str:
        """Media type with charset=utf-8 on every text type (all of ours are UTF-8 text)."""
        return f"{self.media_type}; charset=utf-8"

    def ox(self):
        """The pyoxigraph format object (not picklable, so looked up where it is used)."""
        enum = ox.QueryResultsFormat if self.family == "results" else ox.RdfFormat
        return getattr(enum, self.ox_name)


# The one table of names. A name means a format *within the family the query's form answers in*: "json" is
# SPARQL JSON for SELECT/ASK and JSON-LD for CONSTRUCT/DESCRIBE, "xml" SPARQL XML or RDF/XML, as in Fuseki.
# Names gathered from the clients that send them: SPARQLWrapper 2.0 (json, xml, csv, tsv, turtle, n3, rdf,
# rdf+xml, json-ld; it repeats them as format=, output= and results=), Fuseki (output= / format=: json, xml,
# sparql, text, csv, tsv, ttl, turtle, nt, json-ld, trig, n-quads), Virtuoso (format=: json, js, sparql, xml,
# rdf, n3, ttl, turtle, csv, and media types such as text/plain for N-Triples). N3 is answered as Turtle, a
# subset of N3 every N3 reader reads. Names no format of the family has (turtle for a SELECT, csv for a
# CONSTRUCT, html, or nonsense) are ignored: Accept decides, so a client never gets a 400 for a format name.
# Order matters: the first entry of each family is the default for `*/*` or no Accept header.
RESULTS = (
    Format("application/sparql-results+json", ("json", "srj", "js"), "results", "JSON",
           ("application/json", "application/javascript", "text/javascript")),
    Format("application/sparql-results+xml", ("xml", "srx", "sparql"), "results", "XML",
           ("application/xml", "text/xml")),
    Format("text/csv", ("csv",), "results", "CSV"),
    Format("text/tab-separated-values", ("tsv",), "results", "TSV"),
)
RDF = (
    Format("text/turtle", ("turtle", "ttl", "n3", "text"), "rdf", "TURTLE",
           ("application/turtle", "application/x-turtle", "text/n3", "text/rdf+n3", "application/n3",
            "application/x-nice-turtle")),
    Format("application/n-triples", ("ntriples", "nt", "n-triples"), "rdf", "N_TRIPLES", ("text/plain",)),
    Format("application/rdf+xml", ("rdfxml", "rdf", "xml", "rdf+xml", "rdf/xml"), "rdf", "RDF_XML"),
    Format("application/ld+json", ("jsonld", "json-ld", "json"), "rdf", "JSON_LD",
           ("application/x-json+ld", "application/x-ld+json")),
    Format("application/trig", ("trig",), "rdf", "TRIG", ("application/x-trig",)),
    Format("application/n-quads", ("nquads", "nq", "n-quads"), "rdf", "N_QUADS", ("text/x-nquads",)),
)
# Parameters that name a format, in the order they are read: format= (Virtuoso, SPARQLWrapper), output= (Fuseki).
PARAMETERS = ("format", "output")


def _named(value: str, offers: tuple[Format, ...]) -> Format | None:
    """The format of `offers` that `value` (a short name or a media type) names, or None."""
    # A `+` left unencoded in a URL arrives as a space (format=application/rdf+xml); a media type has no spaces.
    value = value.split(";")[0].strip().lower().replace(" ", "+")
    for fmt in offers:
        if value in fmt.names or value == fmt.media_type or value in fmt.aliases:
            return fmt
    return None


def negotiate(request: Request, offers: tuple[Format, ...], params=None) -> Format | None:
    """The best format of `offers` for this request, or None when nothing is acceptable.

    `params` are the protocol parameters (URL and form body, default the URL's). The first value of format= or
    output= that names one of `offers` overrides Accept; values that name none of them are ignored.
    """
    params = request.args if params is None else params
    for name in PARAMETERS:
        if name in params:  # (params.getlist would build a list for every request without the parameter)
            for value in params.getlist(name):
                chosen = _named(value, offers)
                if chosen is not None:
                    return chosen
    return _best(request.headers.get("Accept", ""), offers)


@functools.lru_cache(maxsize=512)
def _best(header: str, offers: tuple[Format, ...]) -> Format | None:
    """Werkzeug's q-value matching, memoised: clients send the same few Accept headers over and over."""
    accept = parse_accept_header(header, MIMEAccept)
    if not accept:
        return offers[0]
    # Our own media types first, so a wildcard (text/*) picks one of them before an alias.
    candidates = [fmt.media_type for fmt in offers] + [alias for fmt in offers for alias in fmt.aliases]
    best = accept.best_match(candidates)
    if best is None:
        return None
    return next(fmt for fmt in offers if best == fmt.media_type or best in fmt.aliases)


def require(fmt: Format | None, offers: tuple[Format, ...]) -> Format:
    """`fmt`, or a 406 naming what is on offer."""
    if fmt is None:
        raise NotAcceptable("no acceptable format; on offer: " + ", ".join(f.media_type for f in offers))
    return fmt


def by_name(family: str, name: str) -> Format:
    """Look a format up by family and pyoxigraph name (used with what a worker sends back)."""
    return next(f for f in RESULTS + RDF if f.family == family and f.ox_name == name)


def for_query(request: Request, params) -> tuple[Format | None, Format | None]:
    """(results format, RDF format) for a query whose form is known only once it is parsed; (None, None): a 406.

    Clients send one Accept for every query (rdflib's SPARQLStore sends only results types with returnFormat
    json, csv or tsv, whatever the query). When Accept names formats of one family only, the other family gets
    its default, as Fuseki does; a 406 is left for an Accept that names nothing on offer for any query form.
    """
    results, rdf = negotiate(request, RESULTS, params), negotiate(request, RDF, params)
    if results is None and rdf is None:
        return None, None
    return results or RESULTS[0], rdf or RDF[0]
