"""Serve the SPARQL endpoint under gunicorn (the built store, or your own RDF files with --data)."""

import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

from kg.cli import EXIT_OK, UsageError
from kg.paths import BUILD, STORE

EXIT_FRONT_FAILED = 1  # nginx would not start or stopped: the service cannot be reached


def add_arguments(parser) -> None:
    """Options of `kg serve`."""
    parser.add_argument("--bind", default="127.0.0.1:8000", help="address:port to listen on (default 127.0.0.1:8000)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=16, help="threads per worker process (default 16)")
    parser.add_argument("--data", nargs="+", metavar="FILE", type=Path,
                        help="serve these RDF files instead of the built store (Turtle, TriG, N-Triples, N-Quads, "
                             "JSON-LD, RDF/XML; triple files go to the named graph <file:///their/path>)")
    parser.add_argument("--store", type=Path, default=STORE, help=f"the Oxigraph store to serve (default: {STORE})")
    parser.add_argument("--backend", metavar="URL",
                        help="serve this remote SPARQL 1.1 endpoint (Virtuoso, the Oxigraph server, ...) instead of a "
                             "local store, with every layer of this service kept (server/engine/remote.py)")
    parser.add_argument("--front", choices=("none", "nginx"), default="none",
                        help="nginx in front of gunicorn, answering repeated queries from its cache (needs nginx; "
                             "default none)")
    parser.add_argument("--upstream", nargs="+", default=[], metavar="HOST:PORT",
                        help="with --front nginx: other `kg serve` replicas of the same build that nginx shares the "
                             "requests with (each must report this server's dataset version at /healthz)")


def _ensure_store(path: Path) -> None:
    """Build the default store if it is missing (so `make run` works on a fresh clone)."""
    if (path / "CURRENT").is_file():
        return
    if path.resolve() != STORE.resolve():
        raise UsageError(f"no Oxigraph store at {path}")
    from kg.pipeline import build  # lazily: serving files with --data needs no build machinery

    print(f"kg serve: {path} is missing; building it first", flush=True)
    build(out_dir=BUILD)


def run(args) -> int:
    """Check the store, prepare it in this (master) process, then hand the app to gunicorn."""
    from server.engine import sandbox

    reason = sandbox.unavailable()
    if reason:  # query workers confine themselves first thing: without it every one would die at start
        raise UsageError(f"query workers cannot be confined here ({reason}); policykg will not serve unconfined")
    if not args.data and not args.backend:
        _ensure_store(args.store)
    master = os.getpid()
    # Plain temporary folders removed by the master only (on every exit): gunicorn's forked workers must not.
    scratch = tempfile.mkdtemp(prefix="kg-serve-")
    try:
        return _serve(args, scratch)
    finally:
        if os.getpid() == master:
            shutil.rmtree(scratch, ignore_errors=True)


def _serve(args, scratch: str) -> int:
    from server import create_app
    from server.engine.store import StoreUnreadable
    from server.errors import ServiceError

    config = {}
    if args.backend and args.data:
        raise UsageError("--backend and --data exclude each other: the backend holds the data")
    if args.backend:
        config["BACKEND"] = args.backend
    elif args.data:  # parsed into memory by the zygote, or (workers on disk) loaded into scratch by create_app
        config["DATA"], config["DATA_DIR"] = [str(file) for file in args.data], scratch
    else:
        config["STORE"] = str(args.store)
    workers = args.workers
    if os.environ.get("KG_UPDATE_TOKEN") and workers != 1:
        print("kg serve: SPARQL Update is enabled, so one worker process holds the writable store", flush=True)
        workers = 1
    # Metrics summed over gunicorn's worker processes (prometheus-client's multi-process mode).
    os.makedirs(os.path.join(scratch, "metrics"))
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.join(scratch, "metrics"))
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    options = {"bind": args.bind, "workers": workers, "threads": args.threads}
    options.update(_front_options(args, Path(scratch) / "front"))
    if args.front == "nginx":
        config["PROXY_HOPS"] = 1
    try:  # with --backend, creating the app reaches the backend (its dataset version): unreachable is a usage error
        app = create_app(config)
    except StoreUnreadable as error:  # the zygote's copy, or the check of a store read on disk (server/app.py)
        raise UsageError(f"the store at {args.store} cannot be read: {error}") from None
    except (ServiceError, ValueError, SyntaxError, OSError) as error:
        if args.data and not isinstance(error, ServiceError):  # a --data file that cannot be loaded
            raise UsageError(str(error)) from None
        if not args.backend:
            raise
        raise UsageError(f"the backend {args.backend} cannot be used: {getattr(error, 'message', error)}") from None
    service = _Gunicorn(app, options)
    try:
        service.run()
    except SystemExit:
        if not service.front_failed:
            raise
    if service.front_failed:
        print(f"kg serve: {service.front_failed}", file=sys.stderr, flush=True)
        return EXIT_FRONT_FAILED
    return EXIT_OK


def _front_options(args, directory: Path) -> dict:
    """gunicorn on a private unix socket; nginx on --bind, started once the app is loaded (it needs the version)."""
    from server.ops import front

    if args.front != "nginx":
        if args.upstream:
            raise UsageError("--upstream needs --front nginx (nginx shares the requests among the replicas)")
        return {}
    if args.upstream and os.environ.get("KG_UPDATE_TOKEN"):
        raise UsageError("--upstream with SPARQL Update enabled: updates here would make this store differ from the "
                         "replicas'")
    try:
        front.binary()
        replicas = tuple(front.address(upstream) for upstream in args.upstream)
    except (FileNotFoundError, ValueError) as error:
        raise UsageError(str(error)) from None
    directory.mkdir(parents=True)
    socket = directory / "app.sock"
    return {"bind": f"unix:{socket}", "front": (args.bind, socket, replicas, directory)}


def _gunicorn_base():
    from gunicorn.app.base import BaseApplication

    return BaseApplication


class _Gunicorn(_gunicorn_base()):
    """gunicorn with our app object (created once in the master, before the workers fork)."""

    def __init__(self, app, options: dict):
        self.front = options.pop("front", None)
        self.application, self.options, self.nginx = app, options, None
        self.stopping, self.front_failed = False, None
        super().__init__()

    def load_config(self):
        from server.ops import httpworker

        config = self.application.config
        timeout = float(config["QUERY_TIMEOUT"])
        # Requests are read whole by each worker's event loop, under deadlines, before a thread gets them.
        limits = httpworker.Limits(max_body=int(config["MAX_CONTENT_LENGTH"]), read_timeout=float(config["READ_TIMEOUT"]),
                                   min_rate=float(config["READ_MIN_RATE"]))
        settings = {
            **self.options, "worker_class": httpworker.configured(limits), "preload_app": True,
            # gunicorn's own watchdog must outlast the query time limit (the query worker is killed first)
            "timeout": int(timeout) + 30, "graceful_timeout": 10, "keepalive": 5,
            "limit_request_line": 8190,  # the longest GET ?query= gunicorn allows
            "control_socket_disable": True,  # several servers (tests, benchmarks) would share one socket path
            "post_worker_init": _post_worker_init, "worker_exit": _worker_exit, "child_exit": _child_exit,
        }
        if self.front:
            settings.update(when_ready=self._start_front, on_exit=self._stop_front)
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application

    def _start_front(self, server):
        """Once gunicorn listens on its socket: check that the replicas serve this version, write nginx's
        configuration, check it, start nginx."""
        from server.ops import front

        bind, socket, replicas, directory = self.front
        config = self.application.config
        cache = bool(config["CACHE"]) and not config["UPDATE_TOKEN"]
        local = f"unix:{socket}"
        try:  # raised out of gunicorn's start, before any worker: kg's usage error, exit 2
            version = front.agreed_version((local, *replicas), known={local: self.application.extensions["kg"].version})
        except front.Disagreement as error:
            raise UsageError(str(error).replace(local, "this kg serve")) from None
        conf = front.install(front.configured(config, listen=bind, upstreams=(local, *replicas), directory=directory,
                                              version=version, cache=cache))
        self.nginx = front.start(conf)
        threading.Thread(target=self._watch_front, args=(server,), name="nginx-watch", daemon=True).start()
        server.log.info("nginx in front at %s (cache %s), gunicorn at %s%s", bind, "on" if cache else "off", local,
                        "".join(f", replica at {replica}" for replica in replicas))

    def _watch_front(self, server):
        """Without nginx nobody reaches the app (its socket is private): stop the whole service, loudly."""
        from server.ops import front

        status = self.nginx.wait()
        if not self.stopping:
            front.stop(self.nginx)  # its workers, if only the master died
            self.front_failed = f"nginx exited with status {status} (its messages are above); kg serve stopped"
            server.log.error(self.front_failed)
            os.kill(os.getpid(), signal.SIGTERM)  # gunicorn's graceful stop, from its own signal handler

    def _stop_front(self, server):
        from server.ops import front

        self.stopping = True
        if self.nginx is not None:
            front.stop(self.nginx)


def _post_worker_init(worker):
    """Start this worker's query processes now, so the first request does not wait for them."""
    app = worker.app.application
    app.extensions["kg"].pool(app)


def _worker_exit(server, worker):
    """Stop this worker's query processes with it."""
    state = worker.app.application.extensions.get("kg") if hasattr(worker.app, "application") else None
    if state is not None:
        state.close()


def _child_exit(server, worker):
    from prometheus_client import multiprocess

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
