"""Whether a process exists, asked by pid (for records that outlive the processes they name)."""

import os


def alive(pid: int) -> bool:
    """Whether a process with this pid exists (one of another user's counts: it exists)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
