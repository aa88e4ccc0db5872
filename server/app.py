"""The Flask app factory: configuration, the served store, the blueprints."""

import importlib
import os

from flask import Flask

from server import config as defaults
from server import errors
from server.engine import allocator
from server.engine.store import served_from_config
from server.sparql.cache import ResultCache

# One blueprint per concern: a module exposing `bp`. Registering one is adding its name here.
BLUEPRINTS = ("server.sparql.endpoint", "server.ops.health", "server.web.site", "server.web.resources", "server.web.shacl")


class State:
    """What the app holds for its lifetime: the served store, the worker pool (per process), the cache."""

    def __init__(self, app: Flask):
        config = app.config
        self.served = served_from_config(config)
        self.spec = {**self.served.spec(in_memory=config["IN_MEMORY"]), "preload": allocator.library(config["ALLOCATOR"])}
        self.cache = ResultCache(config["CACHE_BYTES"]) if config["CACHE"] else None
        self.generation = 0  # bumped by each update: part of the dataset version, so ETags change
        self._pool = None

    @property
    def version(self) -> str:
        return f"{self.served.version}-{self.generation}"

    def pool(self, app: Flask):
        """This process's worker pool, started on first use (after gunicorn forks, never before)."""
        from server.engine.executor import Pool

        if self._pool is None or self._pool.pid != os.getpid():
            size = 1 if self.served.writable else app.config["EXECUTORS"]
            self._pool = Pool(self.spec, size, start_timeout=app.config["WORKER_START_TIMEOUT"])
        return self._pool

    def close(self) -> None:
        if self._pool is not None and self._pool.pid == os.getpid():
            self._pool.close()


def create_app(config: dict | None = None) -> Flask:
    """Build the app: defaults, then KG_* environment variables, then `config`; open the store."""
    app = Flask(__name__)
    app.config.update(defaults.DEFAULTS)
    app.config.from_prefixed_env("KG")
    app.config.update(config or {})
    defaults.normalise(app.config)
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
