"""Which malloc the query workers run with: jemalloc when installed (pyoxigraph's evaluation is allocation-bound).

pyoxigraph allocates through the C library's malloc; glibc's is measurably slower than jemalloc on the engine's
many small, short-lived allocations (decoded terms, solution rows; bench/README.md, "Cold q5 (text filter) and
the allocator"). The workers are fresh interpreters started by server/engine/executor.py, so the allocator is chosen
by preloading it there; the gunicorn processes keep the system one.
"""

import ctypes.util
import os

# ALLOCATOR values: "auto" = jemalloc if installed, else the system malloc; "jemalloc" = required;
# "system" = glibc's; anything else with a "/" = the path of a malloc-replacing shared library.
CHOICES = ("auto", "jemalloc", "system")
# Where Debian's libjemalloc2 and the usual alternatives put it (find_library needs ldconfig, absent in some images).
JEMALLOC_PATHS = ("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2",
                  "/usr/lib64/libjemalloc.so.2", "/usr/lib/libjemalloc.so.2", "/usr/local/lib/libjemalloc.so.2")


def find_jemalloc() -> str | None:
    """The jemalloc shared library's path or soname, or None when it is not installed."""
    for path in JEMALLOC_PATHS:
        if os.path.isfile(path):
            return path
    return ctypes.util.find_library("jemalloc")


def library(choice: str) -> str | None:
    """The library to preload for `choice` (None = the system malloc); ValueError for an unusable choice."""
    if choice == "system":
        return None
    if choice in ("auto", "jemalloc"):
        found = find_jemalloc()
        if found is None and choice == "jemalloc":
            raise ValueError("ALLOCATOR=jemalloc but libjemalloc is not installed (Debian: apt install libjemalloc2)")
        return found
    if "/" in choice and os.path.isfile(choice):
        return choice
    raise ValueError(f"ALLOCATOR={choice!r}: expected one of {', '.join(CHOICES)} or the path of a shared library")


def environment(preload: str | None) -> dict | None:
    """The worker's environment with `preload` ahead of any LD_PRELOAD already set (None = inherit as is)."""
    if preload is None:
        return None
    env = dict(os.environ)
    env["LD_PRELOAD"] = " ".join(filter(None, (preload, env.get("LD_PRELOAD", ""))))
    return env


def loaded(pid: int | str = "self") -> str:
    """The malloc a running process uses: "jemalloc", another mapped *malloc* library's name, or "system"."""
    try:
        with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as maps:
            names = {line.split()[-1].rsplit("/", 1)[-1] for line in maps if "malloc" in line}
    except OSError:
        return "unknown"
    libraries = sorted(name.split(".so")[0].removeprefix("lib") for name in names if ".so" in name)
    return "jemalloc" if "jemalloc" in libraries else (libraries[0] if libraries else "system")
