"""Events waiting to be sent, oldest first: in memory, or in an SQLite file that survives a restart.

Both are bounded and refuse new events when full ("drop newest"): the oldest events may be in
flight, and a batch that is retried must be the same events with the same ids, so nothing is ever
pushed out from the head. Only the sender removes events, and only once the worker has answered.
Callers serialise access (the client's lock).
"""
import collections
import itertools
import json
import logging
import os
import sqlite3
import stat

logger = logging.getLogger("oddlytics")

# `track` writes under the client's lock. The client holds its file (see SqliteBuffer), so no other connection
# should hold a lock on it; should one all the same, a write gives up after this long and the event waits in
# memory for the next attempt, instead of blocking the app for sqlite3's default 5 s.
BUSY_TIMEOUT_MS = 5
# Opening happens once, in the constructor: how long it waits for a client closing the file (another process
# shutting down) before giving up on persistence.
OPEN_TIMEOUT_S = 1.0
# The queue holds user ids and properties: owner-only, whatever the umask.
FILE_MODE = 0o600
FOLDER_MODE = 0o700
# SQLite gives these the main file's mode when it creates them; ones left by an older version may be wider.
SIDE_FILES = ("", "-wal", "-shm", "-journal")


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
        self._append(event)
        return True

    def _append(self, event):
        self._items.append((self._next_key, event))
        self._next_key += 1

    def head(self, count):
        """The oldest `count` events as (key, event) pairs; they stay queued until removed."""
        return [self._items[i] for i in range(min(count, len(self._items)))]

    def remove(self, keys):
        """Remove events by key; every key must be among the current head (what `head` returned)."""
        self._take(keys)

    def requeue(self, key):
        """Move one event from the head to the back of the queue. Returns its new key."""
        for event in self._take([key]):
            self._append(event)
            return self._next_key - 1
        return None

    def _take(self, keys):
        keys = set(keys)
        kept, taken = [], []
        while keys and self._items:
            key, event = self._items.popleft()
            if key in keys:
                keys.discard(key)
                taken.append(event)
            else:
                kept.append((key, event))
        self._items.extendleft(reversed(kept))
        return taken

    def last_key(self):
        return self._items[-1][0] if self._items else None

    def first_key(self):
        return self._items[0][0] if self._items else None

    @property
    def unsaved(self):
        return len(self._items)

    def kept_value(self, name, new_value):
        """Kept for this buffer's life only: nothing outlives the process."""
        return new_value

    def keep(self, name, value):
        pass

    def relabel(self, old_user_id, new_user_id):
        """Queued events carrying `old_user_id` carry `new_user_id` instead (event ids unchanged). Returns how many."""
        count = 0
        for _, event in self._items:
            if event.get("user_id") == old_user_id:
                event["user_id"] = new_user_id
                count += 1
        return count

    def close(self):
        pass


def queue_file(path):
    """`persist_path` -> an absolute path whose folder exists and whose files only the owner can read."""
    path = os.path.abspath(os.path.expanduser(os.fspath(path)))
    os.makedirs(os.path.dirname(path), mode=FOLDER_MODE, exist_ok=True)
    # SQLite would create the file with 0644 (umask permitting); create it first, owner-only.
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE))
    for suffix in SIDE_FILES:
        try:
            if stat.S_IMODE(os.stat(path + suffix).st_mode) & 0o077:
                os.chmod(path + suffix, FILE_MODE)
        except FileNotFoundError:
            pass
    return path


class QueueFileInUse(Exception):
    """Another client (in this process or another one) holds the queue file."""


class SqliteBuffer:
    """A queue table in an SQLite file. Every `add` is committed before `track` returns, unless the file
    cannot be written (a full disk, an I/O error, a lock held despite the below): then the event waits in
    memory (`unsaved`) and is sent from there; the sender's next `head` (and `close`) tries to write it
    again, never waiting for a lock longer than BUSY_TIMEOUT_MS. On a full disk the worker being reachable is what
    matters: the events go out, and none is lost while the process lives.

    Keys are this buffer's own, given at `add` and written with the row, so an event keeps its key whether
    it is in memory or in the file (the client's flush targets and parked events refer to keys, and an
    event sent from memory may be written to the file before its answer comes). That is sound because
    only this buffer writes the file:

    One client per file: the connection takes the file's lock when it opens and keeps it until `close`
    (SQLite's EXCLUSIVE locking mode; the OS drops it if the process dies). Two clients sharing a file
    each counted rows the other had deleted, so their `pending` only grew and `close` waited for events
    that were gone; a second one now gets QueueFileInUse.

    WAL with synchronous=NORMAL: an event survives the process being killed (the case that
    matters for an app), not necessarily a power cut; that keeps `track` well under a millisecond.
    """

    persistent = True

    def __init__(self, path, capacity):
        self.capacity = capacity
        self.path = queue_file(path)
        # Autocommit; the client's lock, not SQLite's thread check, keeps threads apart.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=OPEN_TIMEOUT_S)
        try:
            # Before WAL mode is entered: the WAL index then lives in this process's memory (no -shm file),
            # and the first write's lock is never released, so no other connection can read or write.
            self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._write(self._create_tables)  # a write, even when the tables exist: takes the lock now
            self._saved, last = self._db.execute("SELECT COUNT(*), COALESCE(MAX(key), 0) FROM queue").fetchone()
            self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except sqlite3.OperationalError as error:
            self._db.close()
            if _busy(error):
                raise QueueFileInUse(f"{self.path} is in use by another client") from error
            raise
        except Exception:
            self._db.close()
            raise
        self._next_key = last + 1
        self._unsaved = collections.OrderedDict()  # key -> JSON text, oldest first: not in the file (yet)
        self._unremoved = set()  # keys in the file the worker answered for whose DELETE failed
        self.trouble = None  # why the file could not be written, while it cannot

    def _create_tables(self):
        self._db.execute("CREATE TABLE IF NOT EXISTS queue (key INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS kept (name TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def __len__(self):
        return self._saved - len(self._unremoved) + len(self._unsaved)

    @property
    def unsaved(self):
        """Events that would be lost if the process ended now."""
        return len(self._unsaved)

    def add(self, event):
        if len(self) >= self.capacity:
            return False
        self._unsaved[self._new_key()] = json.dumps(event)
        if self.trouble is None:  # once a write failed, `add` does not retry every time: `head` does
            self._save()
        return True

    def _new_key(self):
        self._next_key += 1
        return self._next_key - 1

    def head(self, count):
        """The oldest `count` events as (key, event) pairs, from the file and from memory."""
        self._save()
        self._delete_answered()
        rows = self._db.execute("SELECT key, event FROM queue ORDER BY key LIMIT ?",
                                (count + len(self._unremoved),)).fetchall()
        rows = [row for row in rows if row[0] not in self._unremoved]
        rows += itertools.islice(self._unsaved.items(), count)
        events, unreadable = [], []
        for key, text in sorted(rows)[:count]:
            try:
                events.append((key, json.loads(text)))
            except ValueError:
                unreadable.append(key)
        if unreadable:  # a damaged row would otherwise sit at the head and stall the queue forever
            self.remove(unreadable)
        return events

    def remove(self, keys):
        for key in keys:
            if self._unsaved.pop(key, None) is None:
                self._unremoved.add(key)
        self._delete_answered()

    def requeue(self, key):
        """Move one event to the back of the queue. Returns its new key; None if it is not queued."""
        new_key = self._new_key()
        if key in self._unsaved:
            self._unsaved[new_key] = self._unsaved.pop(key)
            return new_key
        def move():
            moved = self._db.execute("INSERT INTO queue (key, event) SELECT ?, event FROM queue WHERE key = ?",
                                     (new_key, key))
            self._db.execute("DELETE FROM queue WHERE key = ?", (key,))
            return moved.rowcount
        try:
            return new_key if self._write(move) else None
        except sqlite3.Error as error:
            self._trouble(error)
        # The file cannot be written: the event moves to memory, and its row goes when the file can be written.
        row = self._db.execute("SELECT event FROM queue WHERE key = ?", (key,)).fetchone()
        if row is None or key in self._unremoved:
            return None
        self._unsaved[new_key] = row[0]
        self._unremoved.add(key)
        return new_key

    def last_key(self):
        saved = self._db.execute("SELECT MAX(key) FROM queue").fetchone()[0]
        unsaved = next(reversed(self._unsaved)) if self._unsaved else None
        return max((k for k in (saved, unsaved) if k is not None), default=None)

    def first_key(self):
        rows = self._db.execute("SELECT key FROM queue ORDER BY key LIMIT ?", (len(self._unremoved) + 1,)).fetchall()
        saved = next((key for (key,) in rows if key not in self._unremoved), None)
        unsaved = next(iter(self._unsaved)) if self._unsaved else None
        return min((k for k in (saved, unsaved) if k is not None), default=None)

    def kept_value(self, name, new_value):
        """The value kept in the file under `name`; the first call stores `new_value`. If the file cannot be
        written, `new_value` is used for this run only, and the next start stores it."""
        def stored():
            row = self._db.execute("SELECT value FROM kept WHERE name = ?", (name,)).fetchone()
            return row[0] if row else None
        if stored() is None:
            try:
                self._write(lambda: self._db.execute("INSERT OR IGNORE INTO kept (name, value) VALUES (?, ?)",
                                                     (name, new_value)))
            except sqlite3.Error as error:
                logger.warning("oddlytics: cannot keep %s in %s (%s); using a new one until the next start",
                               name, self.path, error)
                return new_value
        return stored()

    def keep(self, name, value):
        """Replace the value kept under `name` (logged and left as it was if the file cannot be written)."""
        try:
            self._write(lambda: self._db.execute("INSERT INTO kept (name, value) VALUES (?, ?) ON CONFLICT (name) "
                                                 "DO UPDATE SET value = excluded.value", (name, value)))
        except sqlite3.Error as error:
            logger.warning("oddlytics: cannot keep %s in %s (%s)", name, self.path, error)

    def relabel(self, old_user_id, new_user_id):
        """Queued events carrying `old_user_id` carry `new_user_id` instead (event ids and keys unchanged), in
        memory and in the file. Returns how many. If the file cannot be written its events keep the old id (the
        worker's link moves them)."""
        def changed(text):
            try:
                event = json.loads(text)
            except ValueError:
                return None
            if not isinstance(event, dict) or event.get("user_id") != old_user_id:
                return None
            event["user_id"] = new_user_id
            return json.dumps(event)
        count = 0
        for key, text in list(self._unsaved.items()):
            new_text = changed(text)
            if new_text is not None:
                self._unsaved[key] = new_text
                count += 1
        # The id as JSON text narrows the rows to parse; at most `capacity` rows, once per identify.
        needle = json.dumps(old_user_id)
        rows = [(new_text, key) for key, text in
                self._db.execute("SELECT key, event FROM queue WHERE instr(event, ?) > 0", (needle,)).fetchall()
                if (new_text := changed(text)) is not None and key not in self._unremoved]
        if rows:
            try:
                self._write(lambda: self._db.executemany("UPDATE queue SET event = ? WHERE key = ?", rows))
            except sqlite3.Error as error:
                self._trouble(error)
                return count
        return count + len(rows)

    def close(self):
        self._save()
        self._delete_answered()
        self._db.close()

    # --- writing, and carrying on from memory when the file cannot be written ----------------

    def _save(self):
        if not self._unsaved:
            return
        rows = list(self._unsaved.items())
        try:
            self._write(lambda: self._db.executemany("INSERT INTO queue (key, event) VALUES (?, ?)", rows))
        except sqlite3.Error as error:
            self._trouble(error)
            return
        self._saved += len(rows)
        self._unsaved.clear()
        self._recovered()

    def _delete_answered(self):
        if not self._unremoved:
            return
        keys = list(self._unremoved)
        try:
            deleted = self._write(lambda: self._db.execute(
                f"DELETE FROM queue WHERE key IN ({','.join('?' * len(keys))})", keys).rowcount)
        except sqlite3.Error as error:
            self._trouble(error)
            return
        self._saved -= deleted
        self._unremoved.clear()

    def _write(self, statements):
        self._db.execute("BEGIN IMMEDIATE")
        try:
            result = statements()
            self._db.execute("COMMIT")
            return result
        except BaseException:
            if self._db.in_transaction:
                self._db.rollback()
            raise

    def _trouble(self, error):
        if self.trouble is None:
            logger.warning("oddlytics: cannot write to %s (%s); new events are sent from memory until it can, and "
                           "are lost if the app exits before they are sent or written", self.path, error)
        self.trouble = str(error)

    def _recovered(self):
        if self.trouble is not None:
            self.trouble = None
            logger.info("oddlytics: %s is writable again", self.path)


def _busy(error):
    # sqlite_errorname is Python 3.11+; older ones only have the message.
    return getattr(error, "sqlite_errorname", None) in ("SQLITE_BUSY", "SQLITE_LOCKED") or "locked" in str(error)
