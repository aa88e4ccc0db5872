"""A bound on how deep a text can make the engine recurse, checked on the raw text before any parser sees it.

pyoxigraph's parser, evaluator and destructors recurse once per nested `{`, `(`, `[`, `!`, per link of a
left-deep chain (`1+1+…`, `?a||?b||…`, `:p/:p/…`, `{} UNION {} …`, `OPTIONAL {…} OPTIONAL {…} …`) and per
triple pattern of a group (`?s :p 1, 2, …`, collections `(1 2 …)`); past its stack the process dies with
SIGSEGV. No lexer decides here (strings, IRIs and comments could hide or fake brackets): every occurrence
of a character that can start such a step counts, wherever it is, after \\u escapes are decoded. Each
weighs about the KiB of stack its worst construct was measured to take, so the sum bounds the stack any
parse of the text can need; the worker runs each request on a thread with STACK_BYTES of stack (only
touched pages cost memory), more than twice the worst measured need of a text at BUDGET.

>>> weight('ASK { ?s ?p "o" }') < 30, excess('SELECT * { ?s ?p ?o }') is None
(True, True)
>>> excess("ASK{" + "{" * 30000 + "}" * 30000 + "}").startswith("query refused before parsing")
True
"""

import re
import threading

# Stack units (about 1 KiB each) per occurrence. Measured at 8 MiB, the worst construct per unit was
# EXISTS{FILTER(…)} nested 708 deep (1.2 KiB a unit); nested `{`, `(`, `!`, `1+1+…` and 4,101-item
# collections took 0.5–1.0 KiB a unit; thresholds grow linearly with the stack (2,197 nested `{` at
# 8 MiB, 70,312 at 256 MiB). Items of a collection need only a separator: whitespace, `"`, `<`, `?`…
WEIGHTS = {
    "{": 8, "(": 2, "[": 3, "!": 1, "|": 1, "&": 1, "+": 2, "-": 2, "*": 2, "/": 1, ",": 1, ";": 1, ".": 2,
    "<": 2, '"': 1, "'": 1, "?": 2, "$": 2, " ": 2, "\n": 2, "\t": 2, "\r": 2,
}
BUDGET = 200_000  # units: a VALUES block of 5,000 rows of an IRI and a typed literal weighs about 95,000
STACK_BYTES = 512 << 20  # 2.1 x the 240 MiB that BUDGET units take in the worst measured construct
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def unescape(text: str) -> str:
    """Decode \\uXXXX and \\UXXXXXXXX once, as SPARQL does before tokenising (invalid code points stay)."""
    if "\\u" not in text and "\\U" not in text:
        return text

    def decode(match: re.Match) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group()

    return _ESCAPE.sub(decode, text)


def weight(text: str) -> int:
    """The stack units `text` could make the engine use, at most."""
    decoded = unescape(text)
    return sum(decoded.count(char) * units for char, units in WEIGHTS.items())


def excess(text: str) -> str | None:
    """None when `text` is within the bound, else the message that names the limit."""
    units = weight(text)
    if units <= BUDGET:
        return None
    return (f"query refused before parsing: it could nest deeper than the engine allows ({units:,} units of "
            f"nesting weight, limit {BUDGET:,}; each {{ weighs 8, each ( or whitespace 2, …). "
            f"Split it, or use fewer brackets, operators or values")


def call_on_deep_stack(function, *args):
    """function(*args) on a new thread with STACK_BYTES of stack; its result, or its exception re-raised here."""
    outcome = {}

    def target():
        try:
            outcome["value"] = function(*args)
        except BaseException as error:  # handed to the caller as is, never swallowed
            outcome["error"] = error

    previous = threading.stack_size(STACK_BYTES)
    try:
        thread = threading.Thread(target=target, name="query")
        thread.start()
    finally:
        threading.stack_size(previous)
    thread.join()
    if "error" in outcome:
        raise outcome.pop("error")
    return outcome["value"]
