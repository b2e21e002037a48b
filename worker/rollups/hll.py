"""HyperLogLog sketches of user ids, for distinct users over ranges longer than a day. Pure.

p = 14: 16,384 registers, standard error 0.81% (linear counting below 2.5 x 16,384 users, more exact
still). A user's register and rank are packed into one integer `uh` (register << 6 | rank), computed
once at fold time and stored in `daily_users` (`uh`), so sketches can be rebuilt without hashing again.

Sketches are stored as text: "s" + base64 of 3-byte (register << 6 | rank) entries while at most
SPARSE_MAX registers are set, else "r" + one character per register, its rank as a base64 digit (ranks are 0..51):
16,385 characters where the earlier "d" + base64 of the register bytes (still read) took 21,849, and both ways one C
pass (bytes.translate). Pyodide moves a read's sketch texts from JS into Python character by character: for a
30-day users figure that conversion was the largest single cost of a request (issue 16). Merging dense sketches uses
whole-integer arithmetic (SWAR) rather than a Python loop per register, and decoded dense sketches are
cached per isolate (a past day's sketch rarely changes): merging is the CPU cost of a multi-day users
figure under Pyodide. Sparse entries are packed, unpacked and reduced in bulk (C loops); the sparse form is kept
up to SPARSE_MAX entries, which keeps most hours' sketches small (storage: issue 16).
"""
import base64
import hashlib
import math
import sys
from array import array
from collections import Counter, OrderedDict
from itertools import chain, repeat
from operator import and_, lshift, or_, rshift

P = 14
M = 1 << P
RANK_BITS = 64 - P
# Entries: a sparse sketch of n users is 4n base64 characters where a dense one is 16,385 whatever n. Hours hold
# a few hundred users at most for apps of the Free plan's size, so their sketches stay ~30x smaller; sparse
# entries are decoded and merged in bulk (C loops), a dense merge is one SWAR step.
SPARSE_MAX = 512
# Merges that are only estimated or merged again go dense from this many distinct entries (Sketch.merge_all): below
# it a sparse estimate (a Counter of the entries' ranks) is cheaper than 16 KB of registers.
DENSE_FROM = 256
DECODED_CACHE_SIZE = 256  # dense sketches as integers, 16 KB each
_HIGH_BITS = int.from_bytes(b"\x80" * M, "big")
# Registers as digits; as digits with runs of empty registers shortened (`compact_sql`, read forms only: never
# stored); as base64 bytes (written before the digits).
DENSE_KINDS = ("r", "z", "d")
# A read's dense sketches come with runs of empty registers (digit 'A', ~94% of a day's registers at 1,000 users)
# replaced by D1 (SQL replace, a C pass) and restored here (str.replace, a C pass each): Pyodide moves a string from
# JS into Python character by character, and a 1,000-user day's 16,385 characters become ~5,000. Longest run first.
_EMPTY_RUNS = (("A" * 16, "!"), ("A" * 4, "."))
_DIGITS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_DIGIT_OF_RANK = _DIGITS + bytes(256 - len(_DIGITS))  # translate tables have 256 entries; ranks stay below 64
_RANK_OF_DIGIT = bytes(_DIGITS.index(byte) if byte in _DIGITS else 0 for byte in range(256))
_ALPHA = 0.7213 / (1 + 1.079 / M)


def user_register(user_id):
    """A user id -> its packed register and rank (register << 6 | rank), rank in 1..51."""
    digest = hashlib.blake2b(user_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    value = int.from_bytes(digest, "big")
    register = value >> RANK_BITS
    rest = value & ((1 << RANK_BITS) - 1)
    return register << 6 | (RANK_BITS - rest.bit_length() + 1)


_decoded = OrderedDict()
_WORD = next(code for code in "IL" if array(code).itemsize == 4)


def _packed(sparse):
    """Sparse {register: rank} -> packed entries (register << 6 | rank), in C loops."""
    return map(or_, map(lshift, sparse.keys(), repeat(6)), sparse.values())


def _unpack(payload):
    """Sparse payload bytes (3-byte big-endian entries) -> packed ints: widened to 4 bytes by slice assignment."""
    count = len(payload) // 3
    wide = bytearray(4 * count)
    wide[1::4], wide[2::4], wide[3::4] = payload[0::3], payload[1::3], payload[2::3]
    entries = array(_WORD, bytes(wide))
    if sys.byteorder == "little":
        entries.byteswap()
    return entries


def _pack3(entries):
    """Packed ints (< 2**24) -> 3-byte big-endian entries: _unpack's inverse, by slice assignment."""
    wide = array(_WORD, entries)
    if sys.byteorder == "little":
        wide.byteswap()
    wide = wide.tobytes()
    payload = bytearray(3 * len(entries))
    payload[0::3], payload[1::3], payload[2::3] = wide[1::4], wide[2::4], wide[3::4]
    return bytes(payload)


def compact_sql(column):
    """SQL: a stored sketch in `column` as a read that merges or estimates it wants it: a dense one ("r") as "z", its
    runs of empty registers shortened (_EMPTY_RUNS); any other as stored."""
    shortened = f"substr({column}, 2)"
    for run, mark in _EMPTY_RUNS:
        shortened = f"replace({shortened}, '{run}', '{mark}')"
    return f"CASE WHEN substr({column}, 1, 1) = 'r' THEN 'z' || {shortened} ELSE {column} END"


def _digits(text):
    """A dense sketch's register digits ("r" or "z" text) as bytes."""
    digits = text[1:]
    if text[0] == "z":
        for run, mark in reversed(_EMPTY_RUNS):
            digits = digits.replace(mark, run)
    return digits.encode("ascii")


def _dense_int(text):
    """A stored (or compacted) dense sketch -> its registers as one integer; the latest DECODED_CACHE_SIZE are kept."""
    value = _decoded.get(text)
    if value is None:
        raw = base64.b64decode(text[1:]) if text[0] == "d" else _digits(text).translate(_RANK_OF_DIGIT)
        value = int.from_bytes(raw, "big")
        _decoded[text] = value
        if len(_decoded) > DECODED_CACHE_SIZE:
            _decoded.popitem(last=False)
    else:
        _decoded.move_to_end(text)
    return value


def _scatter(entries):
    """Distinct packed entries, in any order -> their registers as one M-byte integer, each register's highest rank.
    One Python step per entry, the cheapest way measured (CPython, 2,000 entries with repeats): sorting them first
    and assigning through `map` took 1.5x as long, building the sparse dict and then walking it 3.5x."""
    registers = bytearray(M)
    for entry in entries:
        register, rank = entry >> 6, entry & 63
        if rank > registers[register]:
            registers[register] = rank
    return int.from_bytes(registers, "big")


def _sparse_int(sparse):
    """Sparse {register: rank} -> one M-byte integer of registers."""
    registers = bytearray(M)
    for register, rank in sparse.items():
        registers[register] = rank
    return int.from_bytes(registers, "big")


def _swar_max(a, b):
    """Bytewise max of two M-byte big-endian integers whose bytes are all < 128."""
    # Each lane computes 128 + a - b, which never borrows from its neighbour; its top bit says a >= b.
    mask = ((((a | _HIGH_BITS) - b) & _HIGH_BITS) >> 7) * 255
    return b ^ ((a ^ b) & mask)


class Sketch:
    """Registers being merged: sparse entries in a dict, dense sketches folded in with _swar_max."""

    def __init__(self):
        self.sparse = {}
        self.dense = 0

    def add(self, uh):
        register, rank = uh >> 6, uh & 63
        if rank > self.sparse.get(register, 0):
            self.sparse[register] = rank
        return self

    def add_all(self, uhs):
        for uh in uhs:
            self.add(uh)
        return self

    def merge(self, text):
        """Merge a stored sketch (see encode); '' and None are empty."""
        if not text:
            return self
        if text[0] in DENSE_KINDS:
            self.dense = _swar_max(self.dense, _dense_int(text)) if self.dense else _dense_int(text)
        else:
            self._add_packed(_unpack(base64.b64decode(text[1:])))
        return self

    def merge_all(self, texts, dense_from=None):
        """Merge many stored sketches. Sparse entries are decoded and reduced in bulk (C loops, ~0.1 µs an
        entry) where `merge` takes a Python step for each: local days read 24 sparse hours per app.

        `dense_from`: for callers that only estimate the result or merge it further (never encode it: a stored
        sketch keeps its sparse form while it can). With a dense sketch among `texts`, or at least that many
        distinct entries, the entries go into registers at once (`_scatter`, one Python step each) instead of
        into a sorted sparse dict that is walked again to estimate or to densify: those steps per entry were
        most of a 30-local-day `/stats/active` (CPython: 11.7 → 8.7 ms a request)."""
        payloads = []
        for text in texts:
            if text and text[0] in DENSE_KINDS:
                self.merge(text)
            elif text:
                payloads.append(base64.b64decode(text[1:]))
        # A user active in several hours of a day repeats the same entry: dropped by the set (a C loop).
        entries = set(chain(_packed(self.sparse), _unpack(b"".join(payloads))))
        if dense_from is not None and entries and (self.dense or len(entries) >= dense_from):
            scattered = _scatter(entries)
            self.dense = _swar_max(self.dense, scattered) if self.dense else scattered
            self.sparse = {}
            return self
        return self._set_sparse(sorted(entries))

    def merge_sketches(self, others):
        """Merge Sketches being built (not stored text), the same way."""
        for other in others:
            if other.dense:
                self.dense = _swar_max(self.dense, other.dense) if self.dense else other.dense
        return self._add_packed(chain.from_iterable(_packed(other.sparse) for other in others))

    def densify(self):
        """Move the sparse entries into the dense registers (`_sparse_int`): merging dense sketches is then
        one SWAR step each, where sparse ones sort every entry again at each merge (a 30-day window of local days
        held ~30,000 entries at 1,000 daily users)."""
        if not self.sparse:
            return self
        dense = _sparse_int(self.sparse)
        self.dense = _swar_max(self.dense, dense) if self.dense else dense
        self.sparse = {}
        return self

    def _add_packed(self, entries):
        # A user active in several hours of a day repeats the same entry: dropped before the sort (C loops).
        return self._set_sparse(sorted(set(chain(_packed(self.sparse), entries))))

    def _set_sparse(self, entries):
        # Sorted, a register's entries come together, highest rank last: dict() keeps that one.
        self.sparse = dict(zip(map(rshift, entries, repeat(6)), map(and_, entries, repeat(63))))
        return self

    def registers(self):
        """The registers as bytes: the sparse entries' registers SWAR-merged with the dense part."""
        dense = self.dense
        if self.sparse:
            scattered = _sparse_int(self.sparse)
            dense = _swar_max(dense, scattered) if dense else scattered
        return bytearray(dense.to_bytes(M, "big"))

    def encode(self):
        if not self.dense and len(self.sparse) <= SPARSE_MAX:
            return "s" + base64.b64encode(_pack3(sorted(_packed(self.sparse)))).decode()
        return "r" + bytes(self.registers()).translate(_DIGIT_OF_RANK).decode("ascii")

    def rank_counts(self):
        """{rank: registers holding it}, zeros included; without a dense part, from the sparse entries alone."""
        if not self.dense:
            counts = Counter(self.sparse.values())
            counts[0] = M - len(self.sparse)
            return counts
        # Zeros are most registers of a day's sketch and the slowest byte to count (a match at nearly every step):
        # they are deleted in one C pass and counted by what is left. Then rank by rank over the set registers until
        # every one is counted: the ranks above the highest (most of the 52) are not scanned. A C pass each
        # (bytearray.count); max(registers) would walk 16,384 Python ints. CPython, 1,000 users: 155 -> 56 µs an
        # estimate, which active users make per local day.
        set_registers = self.registers().translate(None, b"\x00")
        counted = M - len(set_registers)
        counts = {0: counted}
        for rank in range(1, RANK_BITS + 2):
            if counted == M:
                break
            counts[rank] = set_registers.count(rank)
            counted += counts[rank]
        return counts

    def estimate(self):
        counts = self.rank_counts()
        zeros = counts.get(0, 0)
        if zeros == M:
            return 0
        inverse_sum = sum(count * 2.0 ** -rank for rank, count in counts.items() if count)
        estimate = _ALPHA * M * M / inverse_sum
        if estimate <= 2.5 * M and zeros:
            estimate = M * math.log(M / zeros)  # linear counting: more exact while many registers are empty
        return round(estimate)

