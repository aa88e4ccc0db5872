"""An in-process result cache bounded in bytes (the dataset is immutable between builds)."""

import threading
from collections import OrderedDict

ENTRY_BYTES = 200  # what an entry costs besides its body (key, meta), roughly


class ResultCache:
    """Least-recently-used map from a request key to (meta, body chunks), at most `max_bytes` of bodies."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.used = 0
        self.entries: OrderedDict[str, tuple[dict, list[bytes], int]] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: str):
        """(meta, chunks) or None."""
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self.entries.move_to_end(key)
            self.hits += 1
            return entry[0], entry[1]

    def fits(self, body_bytes: int) -> bool:
        """Whether an answer of `body_bytes` may be kept: at most a quarter of the budget (a streamed answer is
        kept while it arrives only as long as it fits)."""
        return body_bytes + ENTRY_BYTES <= self.max_bytes // 4

    def put(self, key: str, meta: dict, chunks: list[bytes]) -> None:
        """Store an answer unless it alone is over a quarter of the budget; evict the oldest to fit."""
        body = sum(len(c) for c in chunks)
        if not self.fits(body):
            return
        size = body + ENTRY_BYTES
        with self.lock:
            if key in self.entries:
                return
            self.entries[key] = (meta, chunks, size)
            self.used += size
            while self.used > self.max_bytes:
                _, (_, _, old) = self.entries.popitem(last=False)
                self.used -= old

    def clear(self) -> None:
        """Forget everything (after an update)."""
        with self.lock:
            self.entries.clear()
            self.used = 0
