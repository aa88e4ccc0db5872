"""A bound on how deep a text can make the engine recurse, checked on the raw text before any parser sees it.

pyoxigraph's parser, evaluator and destructors recurse once per nested `{`, `(`, `[`, `!`, per link of a
left-deep chain (`1+1+…`, `?a||?b||…`, `:p/:p/…`, `{} UNION {} …`, `OPTIONAL {…} OPTIONAL {…} …`) and per
triple pattern of a group (`?s :p 1, 2, …`, collections `(1 2 …)`); past its stack the process dies with
SIGSEGV. No lexer decides here (strings, IRIs and comments could hide or fake brackets): every occurrence
of a character that can start such a step counts, wherever it is, after \\u escapes are decoded. Each
weighs about the KiB of stack its worst construct was measured to take, so the sum bounds the stack any
parse of the text can need; the query worker runs each text on a thread whose stack is 2.5 times the
worst measured need of its weight (only touched pages cost memory).

>>> weight('ASK { ?s ?p "o" }') < 30, excess('SELECT * { ?s ?p ?o }') is None
(True, True)
>>> excess("ASK{" + "{" * 30000 + "}" * 30000 + "}").startswith("query refused before parsing")
True
"""

import re
import threading

# Stack units (about 1 KiB each) per occurrence, from crash depths measured at 8 MiB (they grow linearly
# with the stack: 2,197 nested `{` at 8 MiB, 70,312 at 256 MiB). Per unit, the worst constructs were:
# 4,101-item collections `(1 2 …)` (1.0 KiB: items need only a separator, so whitespace, `"`, `<`, `?`, `.`,
# `+`, `-` all count), nested builtin calls `STR(STR(…` (927-956 deep: 9 KiB per `(`), `FILTER EXISTS{…`
# (839 deep: 10 KiB per `{` and space), `EXISTS{FILTER(…` (708 deep), `1+1+…` (6,933), `!!…` (9,375).
WEIGHTS = {
    "{": 10, "(": 10, "[": 3, "!": 1, "|": 1, "&": 1, "+": 2, "-": 2, "*": 2, "/": 1, ",": 1, ";": 1, ".": 2,
    "<": 2, '"': 1, "'": 1, "?": 2, "$": 2, " ": 2, "\n": 2, "\t": 2, "\r": 2,
}
BUDGET = 300_000  # units: a VALUES block of 5,000 rows of an IRI and a typed date weighs about 210,000
STACK_BYTES = 768 << 20  # 2.5 x the ~300 MiB that BUDGET units take in the worst measured construct
# Texts up to SHALLOW units run on the worker's own long-lived thread (SHALLOW_STACK_BYTES, 2.5 x their need);
# heavier ones on a thread of their own, whose stack is unmapped when it ends, so no deep text leaves
# hundreds of MiB of touched stack behind.
SHALLOW = 25_000
SHALLOW_STACK_BYTES = 64 << 20
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
            f"nesting weight, limit {BUDGET:,}; each {{ or ( weighs 10, each whitespace 2, …). "
            f"Split it, or use fewer brackets, operators or values")


def call_on_deep_stack(function, *args, stack_bytes: int = STACK_BYTES, **kwargs):
    """function(*args, **kwargs) on a new thread with `stack_bytes` of stack; its result, or its exception."""
    outcome = {}

    def target():
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as error:  # handed to the caller as is, never swallowed
            outcome["error"] = error

    previous = threading.stack_size(stack_bytes)
    try:
        thread = threading.Thread(target=target, name="query")
        thread.start()
    finally:
        threading.stack_size(previous)
    thread.join()
    if "error" in outcome:
        raise outcome.pop("error")
    return outcome["value"]


def call_for(text: str, function, *args):
    """function(*args) here if `text` is within SHALLOW (the caller runs on SHALLOW_STACK_BYTES), else on a
    thread of its own with STACK_BYTES."""
    if weight(text) <= SHALLOW:
        return function(*args)
    return call_on_deep_stack(function, *args)
