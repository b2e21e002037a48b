"""Events waiting to be sent, oldest first: in memory, or in an SQLite file that survives a restart.

Both are bounded and refuse new events when full ("drop newest"): the oldest events may be in
flight, and a batch that is retried must be the same events with the same ids, so nothing is ever
pushed out from the head. Only the sender removes events, and only once the worker has answered.
Callers serialise access (the client's lock).
"""
import collections
import json
import sqlite3


class MemoryBuffer:
    persistent = False

    def __init__(self, capacity):
        self.capacity = capacity
        self._items = collections.deque()
        self._next_key = 0

    def __len__(self):
        return len(self._items)

    def add(self, event):
        if len(self._items) >= self.capacity:
            return False
        self._items.append((self._next_key, event))
        self._next_key += 1
        return True

    def head(self, count):
        """The oldest `count` events as (key, event) pairs; they stay queued until removed."""
        return [self._items[i] for i in range(min(count, len(self._items)))]

    def remove(self, keys):
        """Remove events by key; every key must be among the current head (what `head` returned)."""
        keys = set(keys)
        kept = []
        while keys and self._items:
            key, event = self._items.popleft()
            if key in keys:
                keys.discard(key)
            else:
                kept.append((key, event))
        self._items.extendleft(reversed(kept))

    def last_key(self):
        return self._items[-1][0] if self._items else None

    def first_key(self):
        return self._items[0][0] if self._items else None

    def close(self):
        pass


class SqliteBuffer:
    """A queue table in an SQLite file. Every `add` is committed before `track` returns.

    WAL with synchronous=NORMAL: an event survives the process being killed (the case that
    matters for an app), not necessarily a power cut; that keeps `track` well under a millisecond.
    One client per file is the intended use; two sharing one would both send its events, which
    the worker de-duplicates by event_id.
    """

    persistent = True

    def __init__(self, path, capacity):
        self.capacity = capacity
        self.path = str(path)
        # Autocommit; the client's lock, not SQLite's thread check, keeps threads apart.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=5)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS queue (key INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT NOT NULL)")
        self._count = self._db.execute("SELECT COUNT(*) FROM queue").fetchone()[0]

    def __len__(self):
        return self._count

    def add(self, event):
        if self._count >= self.capacity:
            return False
        self._db.execute("INSERT INTO queue (event) VALUES (?)", (json.dumps(event),))
        self._count += 1
        return True

    def head(self, count):
        rows = self._db.execute("SELECT key, event FROM queue ORDER BY key LIMIT ?", (count,)).fetchall()
        events, unreadable = [], []
        for key, text in rows:
            try:
                events.append((key, json.loads(text)))
            except ValueError:
                unreadable.append(key)
        # A damaged row would otherwise sit at the head and stall the queue forever.
        self.remove(unreadable)
        return events

    def remove(self, keys):
        keys = list(keys)
        if not keys:
            return
        cursor = self._db.execute(f"DELETE FROM queue WHERE key IN ({','.join('?' * len(keys))})", keys)
        self._count -= cursor.rowcount

    def last_key(self):
        return self._db.execute("SELECT MAX(key) FROM queue").fetchone()[0]

    def first_key(self):
        return self._db.execute("SELECT MIN(key) FROM queue").fetchone()[0]

    def close(self):
        self._db.close()
