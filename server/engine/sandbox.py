"""Confine a child process: it dies with its parent, cannot open network sockets, and has a memory ceiling.

Call `confine()` first thing in the child (query worker, SHACL validation), before it reads untrusted input:

    confine(network=False, parent_pid=PID_OF_THE_PARENT, memory_bytes=512 << 20)

- Dies with its parent: prctl(PR_SET_PDEATHSIG, SIGKILL), checked against os.getppid() right after (a parent
  gone before prctl never sends it), and a daemon watchdog thread that exits the process once os.getppid() is no
  longer `parent_pid` (a second line, independent of the signal; it runs during queries because pyoxigraph releases
  the GIL). PDEATHSIG fires when the *thread* that forked the child ends, not the process: spawn confined children
  from a thread that lives as long as the parent (the main thread or a pool thread), or they are killed early.
  A child forked by a zygote (server/engine/zygote.py) serves another process than its parent: `served_pidfd`
  (a pidfd of that process) makes the watchdog end this one when that process ends too. watchdog=False (the
  zygote itself, which must stay single-threaded to fork safely) leaves the second line to the caller.
- No network (unless network=True): a seccomp-BPF filter, installed with ctypes on every thread of the process
  (SECCOMP_FILTER_FLAG_TSYNC) and inherited by every thread and child started later, makes socket() and
  socketpair() of any family but AF_UNIX fail with EACCES, and io_uring_setup() fail with EPERM (io_uring can open
  sockets without the socket() syscall). No outbound connection can be made, whatever the code running in the
  process is told to fetch; AF_UNIX stays open because workers talk to their parent over an inherited socketpair.
  Syscalls of another ABI (i386 via int 0x80, x32) fail with EPERM, so the filter cannot be walked around there.
  Network sockets the process already holds are not touched: start the child without them (multiprocessing's
  spawn and subprocess's close_fds pass only the descriptors named).
- memory_bytes: RLIMIT_AS (address space; `limit_memory()` alone sets it later, e.g. after trusted imports); an
  allocation past it fails instead of growing the machine's memory use: MemoryError in Python, but an abort
  (SIGABRT) when Rust code such as pyoxigraph cannot allocate.

On a kernel without seccomp filters (CONFIG_SECCOMP_FILTER off) or an architecture this module does not know,
`available()` is False (`unavailable()` says why) and confine(network=False) raises SandboxUnavailable, before it
changes anything, rather than pretend: the caller decides whether to run with network=True (and its own checks)
or refuse to start.
"""

import ctypes
import errno
import os
import platform
import resource
import select
import signal
import struct
import threading

PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_TSYNC = 1
AF_UNIX = 1
M_ARENA_MAX = -8  # mallopt parameter (malloc.h)
WATCH_INTERVAL = 0.25  # seconds between two checks of the parent pid

# BPF opcodes (linux/filter.h) and seccomp return actions (linux/seccomp.h).
_LD_ABS_W = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RET = 0x06  # BPF_RET | BPF_K
_ALLOW = 0x7FFF0000
_ERRNO = 0x00050000
# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6] (little-endian: low half first)
_NR, _ARCH, _ARG0 = 0, 4, 16
_X32 = 0x40000000  # __X32_SYSCALL_BIT
SECCOMP_GET_ACTION_AVAIL = 2


class Arch:
    """The numbers the filter needs for one architecture."""

    def __init__(self, audit: int, socket: int, socketpair: int, io_uring_setup: int, seccomp: int):
        self.audit, self.socket, self.socketpair = audit, socket, socketpair
        self.io_uring_setup, self.seccomp = io_uring_setup, seccomp


ARCHES = {
    "x86_64": Arch(0xC000003E, socket=41, socketpair=53, io_uring_setup=425, seccomp=317),
    "aarch64": Arch(0xC00000B7, socket=198, socketpair=199, io_uring_setup=425, seccomp=277),
}


class SandboxUnavailable(RuntimeError):
    """The kernel or the architecture cannot give what confine() was asked for."""


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise SandboxUnavailable(f"{what}: {os.strerror(code)} (errno {code})")


def unavailable() -> str | None:
    """Why confine(network=False) cannot install its filter here, or None when it can."""
    machine = platform.machine()
    if platform.system() != "Linux" or machine not in ARCHES:
        return f"no seccomp filter for {platform.system()} on {machine!r}; refusing to pretend"
    # Asking whether the filter's return action exists has no side effect, and fails (EINVAL or ENOSYS) on a
    # kernel built without CONFIG_SECCOMP_FILTER (or older than 4.14).
    action = ctypes.c_uint32(_ERRNO)
    if _libc().syscall(ctypes.c_long(ARCHES[machine].seccomp), ctypes.c_ulong(SECCOMP_GET_ACTION_AVAIL),
                       ctypes.c_ulong(0), ctypes.byref(action)) != 0:
        return "this kernel has no seccomp filters (CONFIG_SECCOMP_FILTER)"
    return None


def available() -> bool:
    """True when confine(network=False) can install its filter here (Linux, known architecture, seccomp on)."""
    return unavailable() is None


def _filter(arch: Arch) -> bytes:
    """The BPF program: socket()/socketpair() only for AF_UNIX, no io_uring, nothing from a foreign ABI."""
    deny_family = ctypes.c_uint32(_ERRNO | errno.EACCES).value
    deny = ctypes.c_uint32(_ERRNO | errno.EPERM).value
    program = [
        (_LD_ABS_W, 0, 0, _ARCH),  # 0
        (_JEQ, 1, 0, arch.audit),  # 1: our ABI → 3
        (_RET, 0, 0, deny),  # 2: i386 (int 0x80) or any other ABI
        (_LD_ABS_W, 0, 0, _NR),  # 3
        (_JGE, 0, 1, _X32),  # 4: x32 syscalls (x86_64; no syscall has this bit elsewhere) → 5
        (_RET, 0, 0, deny),  # 5
        (_JEQ, 3, 0, arch.socket),  # 6 → 10
        (_JEQ, 2, 0, arch.socketpair),  # 7 → 10
        (_JEQ, 5, 0, arch.io_uring_setup),  # 8 → 14
        (_RET, 0, 0, _ALLOW),  # 9
        (_LD_ABS_W, 0, 0, _ARG0),  # 10: the address family (its low 32 bits: an int in the C prototype)
        (_JEQ, 0, 1, AF_UNIX),  # 11
        (_RET, 0, 0, _ALLOW),  # 12
        (_RET, 0, 0, deny_family),  # 13
        (_RET, 0, 0, deny),  # 14
    ]
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in program)


def _deny_network() -> None:
    arch = ARCHES[platform.machine()]
    code = _filter(arch)
    instructions = ctypes.create_string_buffer(code, len(code))

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    program = Program(len(code) // 8, ctypes.addressof(instructions))
    libc = _libc()
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
    # seccomp(2) rather than prctl(PR_SET_SECCOMP) so that threads already running get the filter too.
    result = libc.syscall(ctypes.c_long(arch.seccomp), ctypes.c_ulong(SECCOMP_SET_MODE_FILTER),
                          ctypes.c_ulong(SECCOMP_FILTER_FLAG_TSYNC), ctypes.byref(program))
    _check(result, "seccomp(SECCOMP_SET_MODE_FILTER)")


def _watch(parent_pid: int, served_pidfd: int | None) -> None:
    watched = select.poll()
    if served_pidfd is not None:
        watched.register(served_pidfd, select.POLLIN)  # a pidfd is readable once its process has exited
    while True:
        if os.getppid() != parent_pid or watched.poll(WATCH_INTERVAL * 1000):
            os._exit(1)


def _die_with_parent(parent_pid: int, served_pidfd: int | None, watchdog: bool) -> None:
    _check(_libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")
    if os.getppid() != parent_pid:  # the parent died before prctl: PDEATHSIG will never fire
        os._exit(1)
    if watchdog:
        threading.Thread(target=_watch, args=(parent_pid, served_pidfd), name="sandbox-watchdog", daemon=True).start()


def limit_memory(memory_bytes: int) -> None:
    """Cap the address space (RLIMIT_AS); glibc gets one malloc arena, so that the cap measures memory in use
    rather than the 64 MiB that glibc reserves for each thread's arena."""
    _libc().mallopt(M_ARENA_MAX, 1)
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def confine(*, network: bool = False, parent_pid: int | None = None, memory_bytes: int | None = None,
            served_pidfd: int | None = None, watchdog: bool = True) -> None:
    """Confine this process (see the module docstring); raises SandboxUnavailable when a part cannot be had."""
    if not network and (reason := unavailable()):
        raise SandboxUnavailable(reason)  # before anything changed, so the caller may still choose network=True
    if memory_bytes is not None:
        limit_memory(memory_bytes)  # before the watchdog thread starts: it must not get an arena of its own
    _die_with_parent(os.getppid() if parent_pid is None else parent_pid, served_pidfd, watchdog)
    if not network:
        _deny_network()
