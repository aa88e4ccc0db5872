"""nginx in front of `kg serve` replicas (`kg serve --front nginx`, `kg front`): repeated /sparql answers served
from nginx's cache, requests shared among replicas of one build.

The dataset is immutable between builds, so an answer is a pure function of the request: nginx may
replay the bytes the app produced without asking it again, as gunicorn's docs recommend a buffering
proxy in front anyway. A warm hit then costs no Python at all. What keeps this correct:

- the cache key holds every part of the request the app's answer depends on (method, URL, body,
  Accept, Content-Type, Origin, Accept-Language, Cookie) and the dataset version, which every
  upstream must report alike (/healthz) before nginx is given them: at start, and at each switch to
  new upstreams (a new build means a new version, so new keys; old answers are never found again);
- nginx stores only what the app marks `Cache-Control: public, max-age=…` (answers; never errors,
  volatile queries or updates) and keeps it no longer than that max-age;
- requests with credentials, and bodies longer than KEYED_BODY, go to the app uncached;
- with SPARQL Update enabled or the result cache off, nginx only proxies (it cannot be told to forget).
"""

import grp
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

NGINX = "nginx"
CACHED_PATH = "/sparql"
# Bodies up to this size are held in memory and are part of the cache key; longer ones (rare for a query)
# go to the app uncached. nginx stores the key in each cache file's header, read into proxy_buffer_size.
KEYED_BODY = 32 << 10
# What an answer depends on, as nginx variables (what server/sparql/answering.py's key holds, and the headers the pages vary on); the body last.
KEY_PARTS = ("$request_method", "$scheme", "$http_host", "$request_uri", "$http_accept", "$content_type", "$http_origin",
             "$http_accept_language", "$http_cookie", "$request_body")
HEADER_ROOM = 64 << 10  # the key's headers: at most four 16k header buffers (large_client_header_buffers)
# An upstream as nginx's `server` takes it: unix:/path, or host:port (IPv6 host in brackets); nothing that could end
# the directive (";", "{", "}", quotes, spaces).
ADDRESS = re.compile(r"unix:/[^\s;{}'\"]+|(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}")
PROBE_TIMEOUT = 10.0  # seconds for one upstream's /healthz


@dataclass(frozen=True)
class Front:
    """What the generated nginx configuration needs to know."""

    listen: str  # host:port the public connects to
    upstreams: tuple[str, ...]  # `kg serve` replicas of one build, as nginx addresses (unix:/path, host:port)
    directory: Path  # nginx's prefix: configuration, cache, temporary files, pid
    version: str  # dataset version, part of every cache key
    cache: bool = True
    cache_bytes: int = 64 << 20
    max_body: int = 1 << 20
    read_timeout: float = 40.0
    access_log: bool = True
    workers: int = 2


def configured(config, **place) -> Front:
    """A Front sized by the service's settings (server.config: cache, body limit, query time limit, access log);
    `place` gives listen, upstreams, directory and version, and may set any other field (cache, workers)."""
    settings = {"cache": bool(config["CACHE"]), "cache_bytes": int(config["CACHE_BYTES"]),
                "max_body": int(config["MAX_CONTENT_LENGTH"]),
                "read_timeout": float(config["QUERY_TIMEOUT"]) + 30,  # past the app's own limit: the app answers it
                "access_log": bool(config["ACCESS_LOG"])}
    return Front(**{**settings, **place})


def _user_line() -> str:
    """nginx run as root drops its workers to an unprivileged user; run as anyone else it stays that user."""
    if os.geteuid() != 0:
        return ""
    nobody = pwd.getpwnam("nobody")
    return f"user nobody {grp.getgrgid(nobody.pw_gid).gr_name};"


def config_text(front: Front) -> str:
    """The nginx.conf for `front` (one server, one upstream group of every replica, one cache zone)."""
    d = front.directory
    cache_zone = (f"proxy_cache_path {d}/cache levels=1:2 keys_zone=kg:8m max_size={front.cache_bytes} "
                  "inactive=1h use_temp_path=off;") if front.cache else ""
    # Every request property the app's answer depends on , and the dataset version,
    # joined by newlines, which no request line or header value can contain, and the body last: so two
    # different requests never make the same key, whatever characters their headers carry.
    key = '"' + r"\n".join((front.version, *KEY_PARTS)) + '"'
    cache_block = f"""
            proxy_cache kg;
            proxy_cache_key {key};
            proxy_cache_methods GET HEAD POST;
            proxy_cache_convert_head on;  # the app answers a HEAD miss as GET; the headers are sent, under the HEAD key
            proxy_cache_bypass $kg_uncacheable;
            proxy_no_cache $kg_uncacheable;
            add_header X-Cache $upstream_cache_status always;""" if front.cache else ""
    buffer = min(front.max_body, KEYED_BODY) + HEADER_ROOM
    log = ("log_format kg escape=json '{\"method\":\"$request_method\",\"path\":\"$uri\",\"status\":$status,"
           "\"ms\":$request_time,\"bytes\":$body_bytes_sent,\"cache\":\"$upstream_cache_status\","
           "\"upstream\":\"$upstream_addr\",\"remote\":\"$remote_addr\"}';\n    access_log /dev/stdout kg;") if front.access_log else "access_log off;"
    servers = " ".join(f"server {address};" for address in front.upstreams)
    return f"""# generated by server/ops/front.py for this front (kg serve / kg front); edits are lost at the next start
{_user_line()}
worker_processes {front.workers};
pid {d}/nginx.pid;
error_log stderr warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
    {log}
    server_tokens off;
    sendfile on;
    # Cached answers are files: keeping them open saves an open/close per hit (about a third of its cost).
    # A file replaced when its max-age ends is seen within open_file_cache_valid; until then the old one,
    # with the same bytes (the dataset has not changed), is read.
    open_file_cache max=10000 inactive=60s;
    open_file_cache_valid 5s;
    tcp_nodelay on;
    keepalive_requests 100000;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    # Short bodies stay in memory, so $request_body (in the cache key) is the whole body; longer ones are
    # written to a file and bypass the cache; bodies over the app's limit still reach it, for its own 413.
    client_body_buffer_size {min(front.max_body, KEYED_BODY)};
    client_body_in_single_buffer on;
    client_max_body_size {front.max_body * 2};
    large_client_header_buffers 4 16k;  # gunicorn's own request-line limit decides, as without the front
    {cache_zone}
    map "$http_authorization$request_body_file" $kg_uncacheable {{ "" 0; default 1; }}
    upstream kg_app {{ {servers} keepalive 16; }}
    server {{
        listen {front.listen};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_read_timeout {int(front.read_timeout)}s;
        # A replica that refuses or drops the connection: the query goes to the next one (read-only replicas, so
        # POSTed queries too); a slow answer is not sent twice.
        proxy_connect_timeout 5s;
        proxy_next_upstream error non_idempotent;
        proxy_buffering on;
        proxy_buffer_size {buffer};  # holds the longest cache key
        proxy_buffers 4 {buffer};
        proxy_busy_buffers_size {2 * buffer};
        location = {CACHED_PATH} {{
            proxy_pass http://kg_app;{cache_block}
        }}
        location / {{
            proxy_pass http://kg_app;
        }}
    }}
}}
"""


def binary() -> str:
    """The nginx executable (KG_NGINX, else `nginx` on PATH or in /usr/sbin), or an error saying how to get one."""
    wanted = os.environ.get("KG_NGINX", NGINX)
    found = shutil.which(wanted) or shutil.which(wanted, path="/usr/sbin:/usr/local/sbin")
    if not found:
        raise FileNotFoundError(f"--front nginx needs nginx ({wanted!r} not found; `make front-deps` installs "
                                "Debian's, or set KG_NGINX to its path)")
    return found


def prepare(front: Front, name: str = "nginx.conf") -> Path:
    """Write the configuration (as `name`) and the folders nginx uses; return the configuration's path."""
    d = front.directory
    for folder in ("cache", "body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (d / folder).mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        # nginx's workers run as nobody: they write the cache and temporary files, and reach the socket.
        nobody = pwd.getpwnam("nobody")
        for folder in ("cache", "body", "proxy"):
            os.chown(d / folder, nobody.pw_uid, nobody.pw_gid)
        for folder in (d, *d.parents):
            if not folder.stat().st_mode & 0o001:
                folder.chmod(folder.stat().st_mode | 0o011)  # traversable, not listable
    path = d / name
    path.write_text(config_text(front), encoding="utf-8")
    return path


def check(conf: Path) -> None:
    """`nginx -t`: refuse a configuration nginx rejects, with nginx's own words."""
    done = subprocess.run([binary(), "-t", "-q", "-p", str(conf.parent), "-c", str(conf), "-e", "stderr"],
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"nginx rejected {conf}: {done.stderr.strip()}")


def install(front: Front) -> Path:
    """Write and check the configuration, then put it in place as nginx.conf (left as it was if nginx rejects it)."""
    candidate = prepare(front, "nginx.conf.new")
    check(candidate)
    return candidate.replace(front.directory / "nginx.conf")


def address(text: str) -> str:
    """An upstream as given by a user (HOST:PORT, [IPv6]:PORT, unix:/PATH), checked; ValueError names it."""
    if not ADDRESS.fullmatch(text):
        raise ValueError(f"{text!r} is not an upstream address (HOST:PORT, [IPv6]:PORT or unix:/PATH)")
    return text


def read_upstreams(path: Path) -> tuple[str, ...]:
    """The upstreams listed in `path`: one address a line; blank lines and # comments skipped. ValueError if none."""
    lines = (line.split("#", 1)[0].strip() for line in Path(path).read_text(encoding="utf-8").splitlines())
    found = tuple(address(line) for line in lines if line)
    if not found:
        raise ValueError(f"{path} lists no upstream")
    return found


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over a unix socket (an upstream given as unix:/path)."""

    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def probe(upstream: str, timeout: float = PROBE_TIMEOUT) -> str:
    """The dataset version `upstream` serves (its /healthz); OSError/ValueError say why it cannot be known."""
    if upstream.startswith("unix:"):
        connection = _UnixConnection(upstream.removeprefix("unix:"), timeout)
    else:
        host, port = upstream.rsplit(":", 1)
        connection = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=timeout)
    try:
        connection.request("GET", "/healthz", headers={"Accept": "application/json"})
        answer = connection.getresponse()
        body = answer.read()
    finally:
        connection.close()
    if answer.status != 200:
        raise ValueError(f"/healthz answered {answer.status}")
    try:
        version = json.loads(body)["dataset_version"]
    except (ValueError, KeyError, TypeError):
        version = None
    if not isinstance(version, str) or not version:
        raise ValueError("/healthz gave no dataset_version (not kg serve?)")
    return version


class Disagreement(ValueError):
    """The upstreams do not all serve one known dataset version (the message names each with its version)."""


def agreed_version(upstreams: Sequence[str], known: Mapping[str, str] | None = None) -> str:
    """The one dataset version every upstream serves (read from /healthz unless `known`), or Disagreement."""
    seen: dict[str, str] = {}
    unknown: set[str] = set()
    for upstream in dict.fromkeys(upstreams):
        try:
            seen[upstream] = known[upstream] if known and upstream in known else probe(upstream)
        except (OSError, ValueError) as error:
            seen[upstream] = f"unreachable ({error})"
            unknown.add(upstream)
    versions = set(seen.values())
    if len(versions) == 1 and not unknown:
        return versions.pop()
    named = ", ".join(f"{upstream} {version}" for upstream, version in seen.items())
    raise Disagreement(f"the upstreams do not serve one dataset version: {named}")


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM nginx if kg serve dies without stopping it (Linux's PR_SET_PDEATHSIG)."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: stop() still ends nginx on every orderly exit


def start(conf: Path) -> subprocess.Popen:
    """Run nginx in the foreground, in a process group of its own so that `stop` can end all of it."""
    return subprocess.Popen([binary(), "-p", str(conf.parent), "-c", str(conf), "-e", "stderr"],
                            stdin=subprocess.DEVNULL, process_group=0, preexec_fn=_die_with_parent)


def stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    """Graceful quit (finish requests in flight), a kill if nginx lingers, then any worker left behind."""
    if process.poll() is None:
        process.send_signal(signal.SIGQUIT)
        deadline = time.monotonic() + grace
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if process.poll() is None:
            process.kill()
            process.wait()
    # A master killed outright leaves its workers running (and holding the port): they are in its group.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _children(pid: int) -> set[int]:
    """Live (not zombie) child processes of `pid`, from /proc."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def reload(process: subprocess.Popen, grace: float) -> bool:
    """nginx's graceful reload (SIGHUP, what `nginx -s reload` sends) of the nginx.conf in place: new workers take
    new connections, the old ones stop accepting, finish the requests they hold and exit. True once every old one
    has exited (from then on every answer comes from the new configuration), False if some outlive `grace` s."""
    old = _children(process.pid)
    process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + grace
    while old & _children(process.pid):
        if time.monotonic() > deadline or process.poll() is not None:
            return False
        time.sleep(0.05)
    return True
