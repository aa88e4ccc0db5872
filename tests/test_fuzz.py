"""Grammar-aware fuzzing of /sparql and /shacl: mutated valid queries and shapes, escapes, invalid UTF-8.

Every answer must be a 4xx, a 2xx or a documented 503; no body may show a traceback or an internal name; and the
loopback canary that every mutated IRI points at must receive nothing. A fixed seed and a bounded count make each
run the same. A failure prints, for each distinct kind of failure, the smallest request that still shows it.
"""

import logging
import random
import re
import time
from dataclasses import dataclass, replace
from urllib.parse import quote_from_bytes

import pytest
from serverkit import ROOT

from server.errors import ServiceError

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
APP_CONFIG = {"QUERY_TIMEOUT": 3.0, "SHACL_TIMEOUT": 10.0}
SEED = 11
SPARQL_CASES = 1500
SHACL_CASES = 150  # each validation runs in a confined child (about 0.25 s each here)
SHRINK_SECONDS = 12.0  # per distinct failure
MAX_REPORTED = 8  # distinct failures shrunk and shown

# Bodies never show these: Python's traceback lines, internal module names, exception class names.
LEAKS = re.compile(r'Traceback|File "|pyparsing|rdflib\.|pyoxigraph\.|werkzeug\.|site-packages|root:x:0:0|'
                   r"\b(?:[A-Z][a-z]+)+(?:Error|Exception)\b")


def _documented(cls=ServiceError) -> set[str]:
    """Titles of the named errors (server/errors.py) that answer 503: the only 5xx a client may see."""
    titles = {cls.title} if cls.status == 503 else set()
    for sub in cls.__subclasses__():
        titles |= _documented(sub)
    return titles


DOCUMENTED_503 = tuple(sorted(_documented()))


# --- the corpus -------------------------------------------------------------------------------------------------

def corpus_queries() -> list[str]:
    """Every query the project ships: queries/, bench/queries/ and the README's SPARQL blocks."""
    files = sorted((ROOT / "queries").glob("*.rq")) + sorted((ROOT / "bench" / "queries").glob("*.rq"))
    texts = [f.read_text(encoding="utf-8") for f in files]
    texts += re.findall(r"```sparql\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    return texts


def corpus_shapes() -> tuple[str, list[str]]:
    """(the project's shapes, the shapes fixtures' Turtle data files)."""
    shapes = (ROOT / "shapes" / "policykg.ttl").read_text(encoding="utf-8")
    data = [f.read_text(encoding="utf-8") for f in sorted((ROOT / "tests" / "data" / "shapes").rglob("*.ttl"))]
    return shapes, data


def test_the_corpus_was_found():
    assert len(corpus_queries()) >= 20
    shapes, data = corpus_shapes()
    assert "sh:select" in shapes and len(data) >= 20


# --- mutations ---------------------------------------------------------------------------------------------------

TOKEN = re.compile(r'<[^<>"{}|^`\\\s]*>|"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\\n]|\\.)*"|'
                   r"'(?:[^'\\\n]|\\.)*'|#[^\n]*|[?$]\w+|[\w:.-]*\w|\S")
KEYWORDS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "FILTER", "OPTIONAL", "UNION", "GRAPH", "SERVICE",
            "SILENT", "FROM", "NAMED", "LOAD", "BIND", "VALUES", "MINUS", "EXISTS", "NOT", "LIMIT", "ORDER BY",
            "GROUP BY", "PREFIX", "BASE", "INSERT DATA", "CLEAR ALL", "{", "}", "(", ")", ".", ";", ",", "*", "<", ">")


def targets(url: str) -> list[str]:
    """IRIs that reach the canary, spelt the ways an allow-list or a pattern might miss."""
    port = url.rsplit(":", 1)[1]
    return [f"{url}/sparql", f"{url}/x", f"http://localhost:{port}/s", f"http://127.1:{port}/",
            f"http://2130706433:{port}/", f"http://0x7f000001:{port}/", f"HTTP://127.0.0.1:{port}/",
            f"http://127.0.0.1:{port}#frag", f"http://user@127.0.0.1:{port}/"]


def escape_letters(text: str, rnd: random.Random) -> str:
    """\\u / \\U escapes of some letters and braces (the SPARQL grammar decodes them before parsing)."""
    out = []
    for char in text:
        if (char.isalpha() or char in "{}<>") and rnd.random() < 0.3:
            out.append(f"\\u{ord(char):04X}" if rnd.random() < 0.7 else f"\\U{ord(char):08x}")
        else:
            out.append(char)
    return "".join(out)


def outbound(url: str, rnd: random.Random) -> str:
    """A clause that would make the engine connect to the canary."""
    iri = rnd.choice(targets(url))
    return rnd.choice([
        f"SERVICE <{iri}> {{ ?s ?p ?o }}", f"SERVICE SILENT <{iri}> {{}}", f"FROM <{iri}>", f"FROM NAMED <{iri}>",
        f"GRAPH <{iri}> {{ ?s ?p ?o }}", f"LOAD <{iri}>", f"SERVICE#>\n<{iri}> {{}}", f"SERVICE ?svc {{}} VALUES ?svc {{ <{iri}> }}",
        escape_letters(f"SERVICE <{iri}> {{}}", rnd), f"S\\u0045RVICE <{iri}> {{}}", f"\\u0053ERVICE <{iri}> {{}}",
        f"SERVICE <{iri.replace('/', '%2F', 3)}> {{}}", f"SERVICE\t<{iri}>{{}}", f"SERVICE/**/<{iri}> {{}}",
        f"FILTER(1<2)SERVICE#>\n<{iri}>{{}}", f"FILTER(?a<?b)SERVICE#>\n<{iri}>{{}}",
    ])


def mutate_sparql(text: str, url: str, rnd: random.Random) -> str:
    """One to three grammar-aware mutations of a query."""
    tokens = TOKEN.findall(text) or ["ASK", "{", "}"]
    for _ in range(rnd.randint(1, 3)):
        kind = rnd.randrange(12)
        i, j = rnd.randrange(len(tokens)), rnd.randrange(len(tokens))
        if kind == 0 and len(tokens) > 1:
            del tokens[i]
        elif kind == 1:
            tokens.insert(i, tokens[i])
        elif kind == 2:
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif kind in (3, 4):
            tokens.insert(i, outbound(url, rnd))
        elif kind == 5:
            tokens.insert(i, rnd.choice(KEYWORDS))
        elif kind == 6:
            tokens[i] = escape_letters(tokens[i], rnd)
        elif kind == 7:
            tokens.insert(i, rnd.choice(["# comment }\n", "#", "# >", '"', "'''", '"\\"', "<", "<http://x", "/*", "\n",
                                         f'"{rnd.choice(targets(url))}"', "'}'", '"""{"""']))
        elif kind == 8:
            depth = rnd.choice([10, 100, 1000, 2500, 5000, 20000])
            opener, closer = rnd.choice([("{", "}"), ("(", ")"), ("{ {} UNION ", "}"), ("!", ""), ("FILTER(", ")")])
            tokens = [f"ASK {opener * depth}{closer * rnd.choice([depth, depth - 1, 0])}"] if rnd.random() < 0.5 \
                else tokens[:i] + [opener * depth, closer * depth] + tokens[i:]
        elif kind == 9:
            tokens.insert(i, '"' + "a" * rnd.choice([1000, 100_000, 600_000]) + '"')
        elif kind == 10 and tokens[i].startswith("<"):
            tokens[i] = f"<{rnd.choice(targets(url))}>"
        else:
            tokens.insert(i, rnd.choice([f"BASE <{url}/> SERVICE <x> {{}}", f"PREFIX c: <{url}/> SERVICE c:x {{}}",
                                         "\x00", "\u202e", "\ufeff", "中文", "\\", "\\u", "\\u00", "\\U0011FFFF"]))
    return " ".join(tokens)


def invalid_utf8(data: bytes, rnd: random.Random) -> bytes:
    """Bytes that are not UTF-8 (a lone continuation byte, a truncated sequence, an overlong form, a surrogate)."""
    at = rnd.randrange(len(data) + 1)
    return data[:at] + rnd.choice([b"\xff", b"\x80", b"\xc3", b"\xe4\xb8", b"\xc0\xaf", b"\xed\xa0\x80", b"\xfe\xfe"]) + data[at:]


FORMATS = ("json", "xml", "csv", "tsv", "json-ld", "n3", "turtle", "rdf+xml", "rdf", "html", "text/turtle",
           "application/rdf+xml", "yaml", "", "\x00", "a" * 300, "application/sparql-results+json;q=0")
NUMBERS = ("1", "0", "-1", "0.001", "1e309", "nan", "inf", "-inf", "99999999999999999999", "abc", "", "1_000", " 2",
           "0x10", "١")  # the last: an Arabic-Indic digit, which int() accepts
ACCEPTS = ("*/*", "text/html", "application/sparql-results+json", "text/turtle", "image/png", "", "text/*;q=0.1",
           "application/json;q=abc", "a" * 2000)


@dataclass(frozen=True)
class Case:
    """One request: `body` is the query (or Turtle) as bytes; params and headers beside it."""

    endpoint: str
    transport: str  # "get", "form", "direct" (application/sparql-query) for /sparql; "turtle", "form", "upload" for /shacl
    body: bytes
    params: tuple = ()
    accept: str = "*/*"
    shapes: bytes | None = None

    def describe(self) -> str:
        parts = [f"{self.endpoint} via {self.transport}", f"body={compact(self.body)}"]
        if self.shapes is not None:
            parts.append(f"shapes={compact(self.shapes)}")
        if self.params:
            parts.append(f"params={self.params!r}")
        parts.append(f"Accept={self.accept!r}")
        return "\n    ".join(parts)


def compact(data: bytes) -> str:
    """A Python expression for `data` with long runs written as repetitions: b"ASK " + b"{" * 2500 + ..."""
    parts, literal, i = [], b"", 0
    while i < len(data):
        best = (1, 1)  # (repeats, unit length)
        for size in range(1, 13):
            unit, n = data[i:i + size], 1
            while data[i + n * size:i + (n + 1) * size] == unit:
                n += 1
            if n * size >= 32 and n * size > best[0] * best[1]:
                best = (n, size)
        n, size = best
        if n * size >= 32:
            if literal:
                parts.append(repr(literal))
                literal = b""
            parts.append(f"{data[i:i + size]!r} * {n}")
            i += n * size
        else:
            literal += data[i:i + 1]
            i += 1
    if literal or not parts:
        parts.append(repr(literal))
    return " + ".join(parts)


def sparql_case(texts: list[str], url: str, rnd: random.Random) -> Case:
    body = mutate_sparql(rnd.choice(texts), url, rnd).encode("utf-8", "surrogatepass")
    if rnd.random() < 0.1:
        body = invalid_utf8(body, rnd)
    params = []
    for name, values in (("format", FORMATS), ("output", FORMATS), ("timeout", NUMBERS), ("max-rows", NUMBERS)):
        if rnd.random() < 0.25:
            params.append((name, rnd.choice(values)))
    if rnd.random() < 0.05:
        params.append(("default-graph-uri", rnd.choice(targets(url))))
    return Case("/sparql", rnd.choice(["get", "form", "direct"]), body, tuple(params), rnd.choice(ACCEPTS))


SHACL_PREFIXES = "@prefix sh: <http://www.w3.org/ns/shacl#> .\n@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"


def shacl_additions(url: str, rnd: random.Random) -> str:
    """Turtle that would make a validator fetch: imports, shapes graphs, JS libraries, outbound SPARQL texts."""
    iri = rnd.choice(targets(url))
    sparql = rnd.choice([f"SELECT $this WHERE {{ SERVICE <{iri}> {{ $this ?p ?o }} }}",
                         f"SELECT $this FROM <{iri}> WHERE {{ $this ?p ?o }}",
                         f"SELECT $this WHERE {{ S\\\\u0045RVICE <{iri}> {{ $this ?p ?o }} }}",
                         f"SELECT $this WHERE {{ \\\\u0053ERVICE <{iri}> {{}} }}",
                         f"SELECT $this WHERE {{ GRAPH <{iri}> {{ $this ?p ?o }} }}",
                         f"ASK {{ SERVICE SILENT <{iri}> {{}} }}",
                         f"SELECT $this WHERE {{ SERVICE#>\\n<{iri}> {{}} }}",
                         escape_letters(f"SELECT $this WHERE {{ SERVICE <{iri}> {{}} }}", rnd).replace("\\", "\\\\")])
    kind = rnd.choice(["select", "ask", "target", "imports", "shapesGraph", "js"])
    if kind == "imports":
        return f"\n<urn:x:onto> a owl:Ontology ; owl:imports <{iri}> .\n"
    if kind == "shapesGraph":
        return f"\n<urn:x:data> sh:shapesGraph <{iri}> .\n"
    if kind == "js":
        return (f"\n<urn:x:S> a sh:NodeShape ; sh:targetClass <urn:x:C> ; sh:js [ sh:jsFunctionName \"f\" ; "
                f"sh:jsLibrary [ sh:jsLibraryURL \"{iri}/lib.js\"^^<http://www.w3.org/2001/XMLSchema#anyURI> ] ] .\n")
    if kind == "target":
        return (f"\n<urn:x:S> a sh:NodeShape ; sh:target [ a sh:SPARQLTarget ; sh:select \"\"\"{sparql}\"\"\" ] ; "
                "sh:property [ sh:path <urn:x:p> ; sh:minCount 1 ] .\n")
    key = "sh:ask" if kind == "ask" else "sh:select"
    if kind == "ask":
        sparql = f"ASK {{ SERVICE <{iri}> {{}} }}"
    return (f"\n<urn:x:S> a sh:NodeShape ; sh:targetNode <urn:x:n> ; sh:targetClass <https://policykg.example/def/Agency> ;"
            f" sh:sparql [ a sh:SPARQLConstraint ; {key} \"\"\"{sparql}\"\"\" ] .\n")


def mutate_turtle(text: str, rnd: random.Random) -> bytes:
    """Token deletes, duplicates and swaps, escapes, truncation or bad bytes in a Turtle text."""
    tokens = TOKEN.findall(text)
    kind = rnd.randrange(6)
    if kind == 0 and tokens:
        del tokens[rnd.randrange(len(tokens))]
    elif kind == 1 and tokens:
        i = rnd.randrange(len(tokens))
        tokens.insert(i, tokens[i])
    elif kind == 2 and tokens:
        i, j = rnd.randrange(len(tokens)), rnd.randrange(len(tokens))
        tokens[i], tokens[j] = tokens[j], tokens[i]
    elif kind == 3:
        nested = rnd.choice([100, 5000, 30000])
        tokens.append(f"<urn:x:s> <urn:x:p> {'(' * nested}1{')' * nested} .")
    joined = " ".join(tokens) if kind <= 3 else text
    data = joined.encode()
    if kind == 4:
        data = data[:rnd.randrange(len(data) + 1)]
    if kind == 5 or rnd.random() < 0.1:
        data = invalid_utf8(data, rnd)
    return data


def shacl_case(shapes: str, data: list[str], url: str, rnd: random.Random) -> Case:
    shapes_text = shapes + (SHACL_PREFIXES + shacl_additions(url, rnd) if rnd.random() < 0.7 else "")
    shapes_bytes = mutate_turtle(shapes_text, rnd) if rnd.random() < 0.3 else shapes_text.encode()
    data_text = rnd.choice(data)
    if rnd.random() < 0.2:
        data_text += f"\n<urn:x:d> <http://www.w3.org/2002/07/owl#imports> <{rnd.choice(targets(url))}> .\n"
    data_bytes = mutate_turtle(data_text, rnd) if rnd.random() < 0.3 else data_text.encode()
    transport = rnd.choice(["form", "upload", "upload", "turtle"])
    return Case("/shacl", transport, data_bytes, (), rnd.choice(["text/turtle", "text/html", "*/*", "application/ld+json"]),
                None if transport == "turtle" else shapes_bytes)


# --- sending and judging -----------------------------------------------------------------------------------------

def send(client, case: Case):
    headers = {"Accept": case.accept}
    params = list(case.params)
    if case.endpoint == "/sparql":
        if case.transport == "get":
            url = "/sparql?" + "&".join([f"query={quote_from_bytes(case.body)}"] +
                                        [f"{k}={quote_from_bytes(v.encode())}" for k, v in params])
            return client.get(url, headers=headers)
        if case.transport == "form":
            body = "&".join([f"query={quote_from_bytes(case.body)}"] + [f"{k}={quote_from_bytes(v.encode())}" for k, v in params])
            return client.post("/sparql", data=body, headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})
        url = "/sparql?" + "&".join(f"{k}={quote_from_bytes(v.encode())}" for k, v in params)
        return client.post(url, data=case.body, headers={**headers, "Content-Type": "application/sparql-query"})
    if case.transport == "turtle":
        return client.post("/shacl", data=case.body, headers={**headers, "Content-Type": "text/turtle"})
    if case.transport == "form":
        body = f"data={quote_from_bytes(case.body)}&shapes={quote_from_bytes(case.shapes or b'')}"
        return client.post("/shacl", data=body, headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})
    from io import BytesIO

    files = {"data_file": (BytesIO(case.body), "data.ttl"), "shapes_file": (BytesIO(case.shapes or b""), "shapes.ttl")}
    return client.post("/shacl", data=files, headers=headers, content_type="multipart/form-data")


class Recorder(logging.Handler):
    """Keeps the server's error log records, so a 500 is told apart by the exception behind it."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def cause(self) -> str:
        """The last logged exception as 'Type: message' (numbers replaced, so one fault is one kind)."""
        for record in reversed(self.records):
            if record.exc_info and record.exc_info[1] is not None:
                error = record.exc_info[1]
                return re.sub(r"-?\d+|\bNone\b", "N", f"{type(error).__name__}: {error}")[:90]
        return "nothing logged"


def verdict(response, canary_before: int, canary, log: Recorder) -> str | None:
    """None when the answer is acceptable, else the kind of failure (the same kind for the same fault)."""
    if len(canary.hits) > canary_before:
        return "the canary received a connection"
    body = response.get_data(as_text=True)
    leak = LEAKS.search(body)
    if leak:
        return f"{response.status_code} with {leak.group(0)!r} in the body"
    if response.status_code >= 500:
        if response.status_code == 503 and any(title in body for title in DOCUMENTED_503):
            return None
        return f"{response.status_code} ({log.cause()})"
    return None


def judged(client, canary, log: Recorder, case: Case) -> str | None:
    """Send `case` and judge the answer."""
    log.records.clear()
    before = len(canary.hits)
    return verdict(send(client, case), before, canary, log)


@dataclass
class Finding:
    kind: str
    case: Case
    count: int = 1
    shrunk: Case | None = None


def shrink(client, canary, log: Recorder, case: Case, kind: str, seconds: float) -> Case:
    """The smallest body (then fewest parameters) that still fails the same way, within `seconds`."""
    deadline = time.monotonic() + seconds

    def same(candidate: Case) -> bool:
        return judged(client, canary, log, candidate) == kind

    for param in case.params:
        candidate = replace(case, params=tuple(p for p in case.params if p != param))
        if same(candidate):
            case = candidate
    if case.accept != "*/*" and same(replace(case, accept="*/*")):
        case = replace(case, accept="*/*")
    for name in ("shapes", "body"):
        data = getattr(case, name)
        if data is None:
            continue
        chunk = max(len(data) // 2, 1)
        while chunk >= 1 and time.monotonic() < deadline:
            i, progressed = 0, False
            while i < len(data) and time.monotonic() < deadline:
                candidate = replace(case, **{name: data[:i] + data[i + chunk:]})
                if same(candidate):
                    data, case, progressed = getattr(candidate, name), candidate, True
                else:
                    i += chunk
            if not progressed:
                chunk //= 2
    return case


def fuzz(client, canary, cases) -> list[Finding]:
    """Every case sent once; each distinct kind of failure kept with its first case, then shrunk."""
    findings: dict[str, Finding] = {}
    log = Recorder()
    logger = logging.getLogger("server")
    logger.addHandler(log)
    try:
        for case in cases:
            kind = judged(client, canary, log, case)
            if kind is None:
                continue
            if kind in findings:
                findings[kind].count += 1
            else:
                findings[kind] = Finding(kind, case)
        for finding in list(findings.values())[:MAX_REPORTED]:
            finding.shrunk = shrink(client, canary, log, finding.case, finding.kind, SHRINK_SECONDS)
    finally:
        logger.removeHandler(log)
    return list(findings.values())


def report(findings: list[Finding], total: int) -> str:
    lines = [f"{sum(f.count for f in findings)} of {total} cases failed, {len(findings)} distinct kinds:"]
    for finding in findings:
        lines.append(f"- {finding.kind} ({finding.count} cases); minimal reproduction:")
        lines.append("    " + (finding.shrunk or finding.case).describe())
    return "\n".join(lines)


# --- the tests ---------------------------------------------------------------------------------------------------

def test_the_canary_records_a_connection(canary):
    import urllib.request

    with urllib.request.urlopen(canary.url + "/probe", timeout=5) as answer:
        assert answer.read() == b"canary"
    [hit] = canary.received()
    assert hit.startswith(b"GET /probe HTTP/1.1\r\n")


def test_fuzzed_sparql_requests_are_answered_safely(client, canary):
    rnd = random.Random(SEED)
    texts = [t.replace("http://127.0.0.1:8001/sparql", canary.url + "/sparql") for t in corpus_queries()]
    cases = [sparql_case(texts, canary.url, rnd) for _ in range(SPARQL_CASES)]
    findings = fuzz(client, canary, cases)
    hits = canary.received()
    if findings or hits:
        pytest.fail(report(findings, len(cases)) + (f"\nthe canary received: {hits[:3]!r}" if hits else ""))


def test_fuzzed_shacl_requests_are_answered_safely(client, canary):
    rnd = random.Random(SEED)
    shapes, data = corpus_shapes()
    cases = [shacl_case(shapes, data, canary.url, rnd) for _ in range(SHACL_CASES)]
    findings = fuzz(client, canary, cases)
    hits = canary.received()
    if findings or hits:
        pytest.fail(report(findings, len(cases)) + (f"\nthe canary received: {hits[:3]!r}" if hits else ""))
