"""Configuration keys with their defaults; each can be set as a KG_<KEY> environment variable.

Environment values are parsed as JSON when they can be (KG_ROW_CAP=500, KG_CACHE=false,
KG_SERVICE_ALLOWLIST='["https://query.wikidata.org/sparql"]'); list keys also take a
space-separated string.
"""

from kg.paths import STORE

DEFAULTS = {
    # The built Oxigraph store, opened read-only (`kg build` writes it).
    "STORE": str(STORE),
    # A remote SPARQL 1.1 endpoint to serve instead of a local store (`kg serve --backend URL`; server/engine/remote.py):
    # queries go there over HTTP with every layer of this service kept. None = the local store.
    "BACKEND": None,
    # Graphs of the backend that form the union default graph (sent as default-graph-uri and named-graph-uri);
    # [] = the backend's own default graph (Virtuoso's includes its system graphs).
    "BACKEND_GRAPHS": [],
    # The backend's dataset version for ETags (e.g. the build digest `kg load` prints); None = counted at start.
    "BACKEND_VERSION": None,
    # RDF files to serve instead of STORE (Turtle, TriG, N-Triples, N-Quads, JSON-LD, RDF/XML), loaded
    # into a fresh on-disk store; quad formats keep their named graphs, each triple file becomes the
    # named graph <file:///absolute/path>. The default graph of queries is still the union of all graphs.
    "DATA": [],
    # The folder DATA is loaded into on disk when workers read it there (IN_MEMORY false, or UPDATE_TOKEN; in memory
    # the zygote parses the files); `kg serve` gives its own scratch folder; None = a temporary one.
    "DATA_DIR": None,
    # Base IRI of the dataset (for the service description and linked-data pages).
    "BASE_IRI": "https://policykg.example/",
    # Query time limit in seconds; requests may lower it with timeout=, never raise it.
    "QUERY_TIMEOUT": 10.0,
    # Most rows (SELECT) or triples (CONSTRUCT/DESCRIBE) in one answer; requests may lower it with max-rows=.
    "ROW_CAP": 10_000,
    # Largest request body in bytes (form or direct POST); gunicorn limits the GET request line to 8190.
    "MAX_CONTENT_LENGTH": 1 << 20,
    # `kg serve` reads each request in its event loop before a thread gets it (server/ops/httpworker.py): the head
    # must arrive within READ_TIMEOUT seconds of its first byte, the body at READ_MIN_RATE bytes/s on average after
    # a READ_TIMEOUT grace; slower clients get 408, so slow clients cannot hold the threads.
    "READ_TIMEOUT": 5.0,
    "READ_MIN_RATE": 8192,
    # Query worker processes per server process (a timed-out one is killed). With IN_MEMORY they are forks of one
    # zygote per `kg serve` (server/engine/zygote.py), which holds the store once for all of them.
    "EXECUTORS": 2,
    # Admission (server/engine/admission.py). A query running longer than HEAVY_AFTER seconds is heavy: its
    # worker's CPU priority is lowered (nice 10), so it yields the CPU to light queries and to workers loading.
    "HEAVY_AFTER": 1.0,
    # Workers per server process kept for new work while every general one is busy, so a light query still
    # answers during heavy ones; a query on one is stopped after HEAVY_AFTER (503 + Retry-After), so it is soon free.
    # Forks of the zygote with IN_MEMORY, else they read the store on disk: either way they start again quickly.
    "RESERVE_EXECUTORS": 1,
    # Loaded workers per server process kept to take a killed worker's place at once (a fork of the zygote starts in
    # milliseconds; without IN_MEMORY a fresh one opens the store first).
    "SPARE_EXECUTORS": 1,
    # Requests per server process that may wait for a busy worker (the wait counts against their time limit);
    # one more is a 503 + Retry-After at once. kg serve's --threads must exceed the workers plus this.
    "ADMISSION_QUEUE": 2,
    # Workers read the store from memory (Oxigraph's in-memory store is several times faster on scans): one zygote
    # process per `kg serve` loads it once and forks the workers, which share its pages copy-on-write.
    "IN_MEMORY": True,
    # Query workers' malloc: "auto" = jemalloc when installed (Debian libjemalloc2; faster on the engine's many small
    # allocations), "jemalloc" = required, "system" = glibc's, or a library path (server/engine/allocator.py).
    "ALLOCATOR": "auto",
    # A query worker forked from the zygote that has copied more of the store than this (bytes) is replaced by a
    # fresh fork after its answer (milliseconds): reading Oxigraph's in-memory store writes to the pages it reads,
    # so a scan copies them (246 MB at 10^6 triples) and workers would drift towards a copy each. The price: the
    # first scan in a fresh fork copies again (+0.25 s at 10^6). None = never replace (faster, more memory).
    "WORKER_COPIED_BYTES": 64 << 20,
    # Seconds a new worker may take to open (and copy) the store.
    "WORKER_START_TIMEOUT": 120.0,
    # SPARQL Update is accepted only with "Authorization: Bearer <this token>"; None = read-only.
    # With a token, the store is opened writable by one worker: run a single server process.
    "UPDATE_TOKEN": None,
    # Remote endpoints SERVICE (and, with the token, LOAD) may name; exact IRIs. Empty = no outbound requests.
    "SERVICE_ALLOWLIST": [],
    # Access-Control-Allow-Origin for the read-only API ("*" = any origin; "" = no CORS headers).
    "CORS_ORIGINS": "*",
    # In-process result cache (bytes of answers kept per server process); CACHE=false switches it off.
    "CACHE": True,
    "CACHE_BYTES": 64 << 20,
    # Cache-Control max-age (seconds) on answers; ETags make revalidation cheap after that.
    "CACHE_MAX_AGE": 300,
    # /shacl (server/web/shacl.py): bytes of Turtle per field or body (over it: 413); seconds a validation may run
    # (then its child is killed: 503); the validating child's address space (past it: 413 naming the limit; the
    # worst input measured, 240 KB of nested Turtle lists, validates under 512 MiB and not under 384 MiB); and
    # validations at a time per server process (when all are taken: 503 + Retry-After, no waiting).
    "SHACL_MAX_BYTES": 256 * 1024,
    "SHACL_TIMEOUT": 30.0,
    "SHACL_MEMORY_BYTES": 512 << 20,
    "SHACL_CONCURRENCY": 1,
    # One JSON line per request on the "server.access" logger.
    "ACCESS_LOG": True,
    # Proxies in front whose X-Forwarded-For/-Proto are believed (`kg serve --front nginx` sets 1); 0 = none.
    "PROXY_HOPS": 0,
}

LIST_KEYS = ("DATA", "SERVICE_ALLOWLIST", "BACKEND_GRAPHS")


def normalise(config) -> None:
    """Accept space-separated strings for list keys (convenient in shells and env files)."""
    for key in LIST_KEYS:
        value = config.get(key)
        if isinstance(value, str):
            config[key] = value.split()


def read(overrides: dict | None = None):
    """The settings: DEFAULTS, then KG_* environment variables, then `overrides` (for the app and for `kg front`)."""
    from flask import Config

    config = Config(".")
    config.update(DEFAULTS)
    config.from_prefixed_env("KG")
    config.update(overrides or {})
    normalise(config)
    return config
