"""The user sketch: encodings round-trip, merging equals sketching the union, and the error bound."""
import random

from rollups import hll


def users(count, prefix="user-"):
    return [f"{prefix}{i}" for i in range(count)]


def sketch_of(ids):
    return hll.Sketch().add_all(hll.user_register(u) for u in ids)


def test_register_and_rank_fit_the_packing():
    for uh in map(hll.user_register, users(1000)):
        assert 0 <= uh >> 6 < hll.M and 1 <= uh & 63 <= hll.RANK_BITS + 1


def test_small_sets_are_exact_and_stay_sparse():
    text = sketch_of(users(60)).encode()
    assert text.startswith("s")
    assert hll.Sketch().merge(text).estimate() == 60
    assert hll.Sketch().merge("").merge(None).estimate() == 0


def test_merging_stored_sketches_equals_sketching_the_union():
    ids = users(30_000)
    parts = [sketch_of(ids[i::7]).encode() for i in range(7)] + [sketch_of(ids[:50]).encode()]
    assert any(p.startswith("r") for p in parts) and any(p.startswith("s") for p in parts)
    merged = hll.Sketch()
    for part in parts:
        merged.merge(part)
    assert merged.registers() == sketch_of(ids).registers()
    assert hll.Sketch().merge(merged.encode()).registers() == merged.registers()


def test_error_is_within_two_percent_on_sets_with_known_truth():
    rng = random.Random(11)
    for count in (10_000, 25_000, 60_000, 200_000):
        ids = [f"u-{rng.getrandbits(64):x}" for _ in range(count)]
        days = [sketch_of(ids[day::30]).encode() for day in range(30)]
        merged = hll.Sketch()
        for day in days + days[:5]:  # the same users seen again do not count twice
            merged.merge(day)
        error = abs(merged.estimate() - count) / count
        assert error <= 0.02, (count, merged.estimate())


def test_a_densified_sketch_has_the_same_registers_and_merges_the_same():
    rng = random.Random(7)
    parts = [sketch_of(users(rng.randrange(1, 2000), prefix=f"p{i}-{rng.random()}-")) for i in range(12)]
    parts.append(hll.Sketch().merge(sketch_of(users(30000, "big-")).encode()))  # dense already
    for part in parts:
        before = bytes(part.registers())
        dense = hll.Sketch().merge_sketches([part]).densify()
        assert not dense.sparse and bytes(dense.registers()) == before
        assert dense.estimate() == part.estimate()
    densified = [hll.Sketch().merge_sketches([p]).densify() if i % 2 else p for i, p in enumerate(parts)]
    merged = hll.Sketch().merge_sketches(densified)
    assert bytes(merged.registers()) == bytes(hll.Sketch().merge_sketches(parts).registers())
    # A register held at a higher rank by the dense part keeps it when a sparse part with a lower rank is densified in.
    mixed = hll.Sketch().merge(sketch_of(users(30000, "big-")).encode())
    mixed.add_all(hll.user_register(u) for u in users(500, "small-"))
    assert bytes(hll.Sketch().merge_sketches([mixed]).densify().registers()) == bytes(mixed.registers())


def reference_registers(texts):
    """Registers of stored sketches by the plainest means: one Python step per register and per entry."""
    registers = bytearray(hll.M)
    for text in texts:
        if text[0] == "r":
            for register, digit in enumerate(text[1:]):
                rank = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".index(digit)
                registers[register] = max(registers[register], rank)
            continue
        raw = __import__("base64").b64decode(text[1:])
        if text[0] == "d":
            for register, rank in enumerate(raw):
                registers[register] = max(registers[register], rank)
        else:
            for i in range(0, len(raw), 3):
                entry = int.from_bytes(raw[i:i + 3], "big")
                registers[entry >> 6] = max(registers[entry >> 6], entry & 63)
    return registers


def test_merging_straight_into_registers_equals_the_sparse_merge():
    # Overlapping users (the same user in several hours repeats an entry), sparse hours and a dense day.
    rng = random.Random(3)
    pool = users(5000, "m-")
    hours = [sketch_of(rng.sample(pool, rng.randrange(20, 400))).encode() for _ in range(24)]
    day = sketch_of(pool[:3000]).encode()
    assert day.startswith("r") and all(h.startswith("s") for h in hours)
    for texts in (hours, hours + [day], [day]):
        expected = reference_registers(texts)
        sparse = hll.Sketch().merge_all(texts)
        dense = hll.Sketch().merge_all(texts, dense_from=hll.DENSE_FROM)
        assert sparse.registers() == expected and dense.registers() == expected
        assert dense.estimate() == sparse.estimate()
        assert dense.dense and not dense.sparse  # past DENSE_FROM entries, or with a dense sketch among them
    few = hll.Sketch().merge_all(hours[:1], dense_from=10**6)
    assert few.registers() == reference_registers(hours[:1]) and few.sparse and not few.dense  # below dense_from the sparse form stays, so an estimate reads no registers
    assert hll.Sketch().merge_all([], dense_from=1).estimate() == 0


def as_base64_bytes(text):
    """A dense sketch in the form written before the digits: "d" + base64 of the register bytes."""
    return "d" + __import__("base64").b64encode(bytes(hll.Sketch().merge(text).registers())).decode()


def test_dense_sketches_are_one_digit_a_register_and_the_earlier_form_still_merges_the_same():
    """"r" + a base64 digit per register (16,385 characters); sketches stored before as "d" + base64 of the bytes
    (21,849) read as the same registers, alone, merged with the new form and with sparse ones."""
    rng = random.Random(5)
    pool = users(6000, "f-")
    day = sketch_of(pool[:3000]).encode()
    other = sketch_of(pool[2000:5000]).encode()
    hours = [sketch_of(rng.sample(pool, rng.randrange(20, 300))).encode() for _ in range(6)]
    assert day.startswith("r") and len(day) == hll.M + 1 and set(day[1:]) <= set(hll._DIGITS.decode())
    old_day, old_other = as_base64_bytes(day), as_base64_bytes(other)
    assert len(old_day) == 21_849
    assert hll.Sketch().merge(old_day).registers() == hll.Sketch().merge(day).registers() == reference_registers([day])
    for texts in ([day, other], [old_day, other], [old_day, old_other] + hours, [day, old_other] + hours):
        expected = reference_registers([day, other] + hours[:len(texts) - 2])
        assert hll.Sketch().merge_all(texts).registers() == expected
        assert hll.Sketch().merge_all(texts, dense_from=hll.DENSE_FROM).registers() == expected
    # The highest rank a register can hold survives the round trip.
    top = hll.Sketch().add((hll.M - 1) << 6 | (hll.RANK_BITS + 1)).densify()
    assert hll.Sketch().merge(top.encode()).registers()[-1] == hll.RANK_BITS + 1


def test_rank_counts_are_the_registers_histogram_whatever_the_fill():
    """Estimates count ranks over the set registers only (zeros deleted first): the same histogram as counting every
    register, from an empty sketch to one with every register set."""
    from collections import Counter

    for count in (0, 1, 300, 1000, 30_000, 300_000):
        sketch = sketch_of(users(count, f"h{count}-"))
        dense = hll.Sketch().merge_sketches([sketch]).densify()
        expected = Counter(bytes(sketch.registers()))
        for form in (sketch, dense):
            assert {rank: n for rank, n in form.rank_counts().items() if n} == dict(expected)
    full = hll.Sketch().merge_sketches([sketch_of(users(300_000, "full-"))]).densify()
    assert full.rank_counts()[0] == 0 and sum(full.rank_counts().values()) == hll.M


def test_reads_compact_runs_of_empty_registers_and_merge_the_same_registers():
    """compact_sql, run by SQLite as D1 runs it: a dense sketch comes as "z" with its runs of empty registers shortened
    (~3x fewer characters for Pyodide to move at 1,000 users), and reads as the same registers, alone and merged; sparse
    and earlier dense forms come as stored."""
    import sqlite3

    db = sqlite3.connect(":memory:")
    rng = random.Random(7)
    pool = users(40_000, "z-")
    stored = [sketch_of(pool[:count]).encode() for count in (600, 1000, 3000, 40_000)]
    stored += [hll.Sketch().add(5 << 6 | 1).densify().encode(),  # one register set: every other run is empty
               hll.Sketch().add((hll.M - 1) << 6 | (hll.RANK_BITS + 1)).densify().encode(),  # the last one, top rank
               sketch_of(rng.sample(pool, 40)).encode(), as_base64_bytes(stored[1]), None, ""]
    compact = [db.execute(f"SELECT {hll.compact_sql('?1')}", (text,)).fetchone()[0] for text in stored]
    for text, read in zip(stored, compact):
        if text and text[0] == "r":
            assert read[0] == "z" and len(read) <= len(text) and set(read[1:]) <= set(hll._DIGITS.decode() + "!.")
            assert hll.Sketch().merge(read).registers() == hll.Sketch().merge(text).registers()
        else:
            assert read == text  # sparse, "d", empty and NULL as stored
    thousand = compact[1]
    assert len(thousand) < hll.M // 3, len(thousand)
    hours = [sketch_of(rng.sample(pool, 100)).encode() for _ in range(4)]
    assert hll.Sketch().merge_all(compact[:4] + hours, dense_from=hll.DENSE_FROM).registers() == \
        reference_registers([t for t in stored[:4]] + hours)
