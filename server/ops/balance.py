"""How many connections each gunicorn worker of one server holds, in memory its master shares with every fork.

A worker runs the app under one GIL, so it answers at most about one core's worth of requests: when all the
keep-alive connections of a few clients land in one worker (the kernel wakes every worker for a new connection and
the first to call accept() wins), the server answers at half its rate on two cores. Measured with 4 wrk connections
and 2 workers: 1,690 requests/s with all four in one worker, 3,400 with two each. So a worker holding more
connections than the least loaded of the others leaves a new one to it, for at most GRACE seconds (should that
worker be stuck, the connection is not left waiting longer).
"""

import ctypes
import logging
import multiprocessing

from server.process import alive

SLOTS = 64  # workers of one server, at most (a slot is freed when its worker exits, or found free if it died)
GRACE = 0.05  # seconds a busier worker leaves a pending connection to a less loaded one


def table() -> "Table | None":
    """A table for one server's workers; None where the system has no shared semaphores (no /dev/shm): the workers
    then take connections as the kernel offers them, and the log says so once."""
    try:
        return Table()
    except OSError as error:
        logging.getLogger("server.balance").warning("new connections are not spread over the workers: %s", error)
        return None


class Table:
    """Open connections per worker: (pid, count) pairs in shared memory, and a lock to claim a slot."""

    def __init__(self):
        # Created in the master before it forks: RawArray and Lock live in shared memory, so every fork sees them.
        self.cells = multiprocessing.RawArray(ctypes.c_long, 2 * SLOTS)
        self.lock = multiprocessing.Lock()

    def claim(self, pid: int) -> int:
        """A slot for worker `pid`: a free one, or one whose worker has died."""
        cells = self.cells
        with self.lock:
            for slot in range(SLOTS):
                if cells[2 * slot] == 0 or not alive(cells[2 * slot]):
                    cells[2 * slot], cells[2 * slot + 1] = pid, 0
                    return slot
        raise RuntimeError(f"more than {SLOTS} gunicorn workers share one connection table")

    def release(self, slot: int) -> None:
        self.cells[2 * slot] = self.cells[2 * slot + 1] = 0

    def publish(self, slot: int, count: int) -> None:
        self.cells[2 * slot + 1] = count

    def least_elsewhere(self, slot: int) -> int | None:
        """The fewest connections any other live worker holds; None when there is no other."""
        cells, least = self.cells, None
        for other in range(SLOTS):
            pid = cells[2 * other]
            if other == slot or pid == 0:
                continue
            count = cells[2 * other + 1]
            if (least is None or count < least) and alive(pid):
                least = count
        return least
