"""The Flask app factory: configuration, the served store, the blueprints."""

import importlib
import os
import threading

from flask import Flask

from server import config as defaults
from server import errors
from server.engine import allocator, remote, zygote
from server.engine.store import Served, StoreUnreadable, check_readable, served_from_config
from server.sparql.cache import ResultCache

# One blueprint per concern: a module exposing `bp`. Registering one is adding its name here.
BLUEPRINTS = ("server.sparql.endpoint", "server.ops.health", "server.web.site", "server.web.resources", "server.web.shacl")


class State:
    """What the app holds for its lifetime: the served store, the worker pool (per process), the cache."""

    def __init__(self, app: Flask):
        config = app.config
        # A remote endpoint (kg serve --backend) is the store: reached and versioned once here, queried by pool().
        self.backend = remote.from_config(config) if config.get("BACKEND") else None
        preload = allocator.library(config["ALLOCATOR"])
        self.served = Served(config["BACKEND"], self.backend.probe(30.0)) if self.backend else served_from_config(config)
        self.spec = {**self.served.spec(in_memory=config["IN_MEMORY"]), "preload": preload}
        built = not self.backend and not self.served.files  # a store written by `kg build`
        if built and not self.spec["in_memory"]:
            # Workers read it on disk: every index is read once now, so damage stops the start, not some query later.
            check_readable(self.served.path, timeout=config["WORKER_START_TIMEOUT"])
        # One in-memory copy of the store per `kg serve`: the zygote, started here (in gunicorn's master, before it
        # forks). It parses --data files or copies the store; this process waits for it, so a file that does not
        # parse, or a store that cannot be read in full, stops here (the copy is the only read of what is served).
        self.zygote = zygote.Zygote(self.spec) if self.spec["in_memory"] and not self.backend else None
        if self.zygote is not None:
            try:
                self.zygote.loaded(config["WORKER_START_TIMEOUT"])
            except BaseException as error:
                self.zygote.close()
                if built and isinstance(error, ValueError):
                    raise StoreUnreadable(str(error)) from None
                raise
        self.cache = ResultCache(config["CACHE_BYTES"]) if config["CACHE"] else None
        self.generation = 0  # bumped by each update: part of the dataset version, so ETags change
        self._pools = {}  # network (bool) → this process's Pool
        self._lock = threading.Lock()  # two first requests must not start two pools

    @property
    def version(self) -> str:
        return f"{self.served.version}-{self.generation}"

    def pool(self, app: Flask, *, network: bool = False):
        """This process's worker pool, started on first use (after gunicorn forks, never before).

        network=True: the pool (one worker, allowed to connect out) for queries whose SERVICE targets are all
        allow-listed; every other query runs in workers without network. A writable store has one worker for all
        (with network when there is an allow-list: a second process cannot open the store).
        """
        from server.engine.admission import Pool

        if self.backend is not None:
            return self.backend
        config, writable = app.config, self.served.writable
        network = network and not writable
        with self._lock:
            pool = self._pools.get(network)
            if pool is None or pool.pid != os.getpid():
                if network or writable:
                    sizes = {"size": 1, "network": network or bool(config["SERVICE_ALLOWLIST"])}
                else:
                    sizes = {"size": config["EXECUTORS"], "reserve": config["RESERVE_EXECUTORS"],
                             "spare": config["SPARE_EXECUTORS"]}
                pool = self._pools[network] = Pool(
                    self.spec, **sizes, queue=config["ADMISSION_QUEUE"], heavy_after=config["HEAVY_AFTER"],
                    start_timeout=config["WORKER_START_TIMEOUT"], zygote=self.zygote,
                    copied_bytes=config["WORKER_COPIED_BYTES"])
            return pool

    def close(self) -> None:
        for pool in self._pools.values():
            if pool.pid == os.getpid():
                pool.close()
        if self.zygote is not None:
            self.zygote.close()  # only in the process that started it


def create_app(config: dict | None = None) -> Flask:
    """Build the app: defaults, then KG_* environment variables, then `config`; open the store."""
    app = Flask(__name__)
    app.config.update(defaults.read(config))
    app.json.ensure_ascii = False
    errors.register(app)
    app.extensions["kg"] = State(app)
    for name in BLUEPRINTS:
        module = importlib.import_module(name)
        app.register_blueprint(module.bp)
    hops = int(app.config["PROXY_HOPS"])
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # The access log and the endpoint URL see the client's address and scheme.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    return app
