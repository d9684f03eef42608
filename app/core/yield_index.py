"""The yield engine's in-memory index of test-report headers: compact, incremental, ordered.

Holds every test (UUT) report header the station has, grouped into units (SN + PN within a
process, wats-api.md §2.5) with each unit's runs chained in start order, and all runs sorted
by start so a period's first runs are found by bisection instead of a scan.

Why columns and not objects: a station keeps years of headers (1,000,000 rows is a real
case), and one Python object per report would cost several hundred bytes each. Here a run
is one slot in a few typed arrays (about 50 bytes); repeated texts (product, station,
operator, failing step) are stored once and referenced by number.

Rows carry a `key` that is unique and grows in arrival order (the queue's rowid): a row
with a known key replaces the earlier version (a resubmitted report), a row with a new key
is added. Runs with the same start are ordered by key, which is the order the local WATS
server and `app.core.unit_yield` use (input order) as well.

Not thread-safe: one thread changes and reads it (the worker's yield thread).
"""

from __future__ import annotations

import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, NamedTuple, TypeVar

from app.core.unit_yield import YieldRecord

T = TypeVar("T")

# Result letters (WSJF): only P passes. Other letters are failures of their own kind.
RESULT_CODES = {"P": 0, "F": 1, "E": 2, "T": 3}
OTHER_RESULT = 4
PASSED = 0
NO_STEP = -1
# Out-of-order rows in one batch up to this many are inserted in place; more re-sort once.
_INSERT_LIMIT = 64


class HeaderRow(NamedTuple):
    """The header columns the engine needs, in the order the worker selects them."""

    key: int
    sn: str | None
    pn: str | None
    process_code: int | None
    start_utc: float | None
    result: str | None
    rev: str | None = None
    station: str | None = None
    fixture_id: str | None = None
    operator: str | None = None
    process_name: str | None = None
    failing_step_name: str | None = None
    failing_step_path: str | None = None


# (rev, station, fixture, operator, process name) of one run.
RunAttrs = tuple[str, str, str, str, str]
REV, STATION, FIXTURE, OPERATOR, PROCESS_NAME = range(5)


class Interner(Generic[T]):
    """Numbers equal values once: value → id, id → value."""

    def __init__(self) -> None:
        self.ids: dict[T, int] = {}
        self.values: list[T] = []

    def id(self, value: T) -> int:
        found = self.ids.get(value)
        if found is None:
            found = len(self.values)
            self.ids[value] = found
            self.values.append(value)
        return found

    def __len__(self) -> int:
        return len(self.values)


class UnitTable:
    """(serial number, product, process) → unit number, in two flat arrays.

    A dict with text keys costs about 150 bytes a unit, which for a million units is most of
    the index; this open-addressing table (linear probing, at most half full) costs about 24.
    Slots hold a 64-bit hash of the key and the unit; a hash match is confirmed against the
    unit's product, process and a CRC-32 of its serial number, so two keys that share a hash
    stay two units.
    """

    _START = 1024

    def __init__(self) -> None:
        self._hashes = array("q", [0]) * self._START
        self._units = array("i", [-1]) * self._START
        self._mask = self._START - 1
        self.count = 0

    def find(
        self, key_hash: int, pn_id: int, code: int, crc: int, index: YieldIndex
    ) -> tuple[int, int]:
        """(unit, slot): the unit of this key, else (-1, the free slot to put it in)."""
        hashes, units, mask = self._hashes, self._units, self._mask
        unit_pn, unit_process, unit_crc = index.unit_pn, index.unit_process, index.unit_sn_crc
        slot = key_hash & mask
        while True:
            unit = units[slot]
            if unit < 0:
                return -1, slot
            if (
                hashes[slot] == key_hash
                and unit_crc[unit] == crc
                and unit_pn[unit] == pn_id
                and unit_process[unit] == code
            ):
                return unit, slot
            slot = (slot + 1) & mask

    def put(self, slot: int, key_hash: int, unit: int) -> None:
        self._hashes[slot] = key_hash
        self._units[slot] = unit
        self.count += 1
        if self.count * 2 > len(self._units):
            self._grow()

    def _grow(self) -> None:
        old = zip(self._hashes, self._units, strict=True)
        size = len(self._units) * 2
        self._hashes = array("q", [0]) * size
        self._units = array("i", [-1]) * size
        self._mask = size - 1
        hashes, units, mask = self._hashes, self._units, self._mask
        for key_hash, unit in old:
            if unit < 0:
                continue
            slot = key_hash & mask
            while units[slot] >= 0:
                slot = (slot + 1) & mask
            hashes[slot] = key_hash
            units[slot] = unit


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What one batch changed: rows added, rows replaced, and the processes touched."""

    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    skipped: int = 0  # rows with no start time or process code (not countable)
    processes: frozenset[int] = frozenset()


class YieldIndex:
    """Runs (one per report) in typed arrays, units as chains of runs in start order."""

    def __init__(self) -> None:
        self.pns: Interner[str] = Interner()
        self.attrs: Interner[RunAttrs] = Interner()
        self.steps: Interner[tuple[str, str]] = Interner()
        self.process_names: dict[int, str] = {}
        self.process_codes: set[int] = set()
        # Per run.
        self.start = array("d")
        self.unit = array("i")
        self.result = bytearray()
        self.attr = array("i")
        self.step = array("i")
        self.next = array("i")  # the unit's next run in start order, -1 at the end
        self.key = array("q")
        self.alive = bytearray()
        # Per unit.
        self._units = UnitTable()
        self.unit_sn_crc = array("I")
        self.unit_first = array("i")  # first run in start order, -1 once all were removed
        self.unit_pn = array("i")
        self.unit_process = array("i")
        # All runs by start (dead ones included, skipped by readers).
        self.order = array("i")
        self.order_start = array("d")
        self._order_dirty = False
        self._keys_sorted = True
        self._key_order: array[int] | None = None  # run ids by key when keys arrived unsorted
        self.live_runs = 0
        self.version = 0

    # ------------------------------------------------------------ building

    @classmethod
    def from_records(cls, records: Iterable[YieldRecord]) -> YieldIndex:
        """An index of plain records (tests, the cross-check); keys follow input order."""
        index = cls()
        index.apply(
            HeaderRow(
                key=number,
                sn=r.sn,
                pn=r.pn,
                process_code=r.process_code,
                start_utc=r.start_utc.timestamp(),
                result=r.result,
                rev=r.rev,
                station=r.station,
                fixture_id=r.fixture_id,
                operator=r.operator,
                process_name=r.process_name,
                failing_step_name=r.failing_step_name,
                failing_step_path=r.failing_step_path,
            )
            for number, r in enumerate(records, start=1)
        )
        return index

    def apply(self, rows: Iterable[HeaderRow]) -> ApplyResult:
        """Add new rows and replace changed ones (same key); returns what changed."""
        added = replaced = unchanged = skipped = 0
        processes: set[int] = set()
        late: list[int] = []
        for row in rows:
            existing = self._find(row.key)
            if row.start_utc is None or row.process_code is None:
                skipped += 1
                if existing is not None and self.alive[existing]:
                    processes.add(self.unit_process[self.unit[existing]])
                    self._kill(existing)
                    replaced += 1
                continue
            code = int(row.process_code)
            if row.process_name:
                self.process_names[code] = row.process_name
            if existing is None:
                late_run = self._append(row, code)
                if late_run is not None:
                    late.append(late_run)
                added += 1
                processes.add(code)
            elif self._replace(existing, row, code):
                replaced += 1
                processes.add(code)
            else:
                unchanged += 1
        if late:
            self._place_late(late)
        if added or replaced:
            self.version += 1
        return ApplyResult(added, replaced, unchanged, skipped, frozenset(processes))

    def _unit_for(self, sn: str, pn: str, code: int) -> int:
        pn_id = self.pns.ids.get(pn)
        if pn_id is None:
            pn_id = self.pns.id(pn)
        crc = zlib.crc32(sn.encode("utf-8", "surrogatepass"))
        key_hash = hash((code, pn, sn))
        unit, slot = self._units.find(key_hash, pn_id, code, crc, self)
        if unit < 0:
            unit = len(self.unit_first)
            self.unit_first.append(-1)
            self.unit_pn.append(pn_id)
            self.unit_process.append(code)
            self.unit_sn_crc.append(crc)
            self.process_codes.add(code)
            self._units.put(slot, key_hash, unit)
        return unit

    def load(self, rows: Iterable[HeaderRow]) -> int:
        """Add rows that are all new and come in increasing key order (the first load from
        the queue, in rowid order): the same result as `apply`, in half the time. Returns
        the number of rows added."""
        start_a, unit_a, result_a = self.start, self.unit, self.result
        attr_a, step_a, next_a, key_a, alive_a = (
            self.attr,
            self.step,
            self.next,
            self.key,
            self.alive,
        )
        unit_first, order, order_start = self.unit_first, self.order, self.order_start
        attr_ids, step_ids, names = self.attrs.ids, self.steps.ids, self.process_names
        codes, unit_for, link = RESULT_CODES, self._unit_for, self._link
        last_key = key_a[-1] if key_a else -(2**63)
        newest = order_start[-1] if order_start else float("-inf")
        late: list[int] = []
        added = 0
        for row in rows:
            (
                key,
                sn,
                pn,
                code,
                start,
                result,
                rev,
                station,
                fixture,
                operator,
                pname,
                sname,
                spath,
            ) = row
            if key <= last_key:
                raise ValueError("load() needs new rows in increasing key order; use apply()")
            last_key = key
            if start is None or code is None:
                continue
            attrs = (rev or "", station or "", fixture or "", operator or "", pname or "")
            attr = attr_ids.get(attrs)
            if attr is None:
                attr = self.attrs.id(attrs)
            if sname or spath:
                pair = (sname or "", spath or "")
                step = step_ids.get(pair)
                if step is None:
                    step = self.steps.id(pair)
            else:
                step = NO_STEP
            if pname:
                names[code] = pname
            run = len(start_a)
            known = len(unit_first)
            unit = unit_for(sn or "", pn or "", code)
            start_a.append(start)
            unit_a.append(unit)
            result_a.append(codes.get((result or "").upper(), OTHER_RESULT))
            attr_a.append(attr)
            step_a.append(step)
            key_a.append(key)
            alive_a.append(1)
            next_a.append(-1)
            if unit == known:  # a new unit: this is its first run
                unit_first[unit] = run
            else:
                link(unit, run)
            if start >= newest:
                order.append(run)
                order_start.append(start)
                newest = start
            else:
                late.append(run)
            added += 1
        self.live_runs += added
        self._key_order = None
        if late:
            self._place_late(late)
        if added:
            self.version += 1
        return added

    def _attrs_of(self, row: HeaderRow) -> tuple[int, int]:
        attr = self.attrs.id(
            (
                row.rev or "",
                row.station or "",
                row.fixture_id or "",
                row.operator or "",
                row.process_name or "",
            )
        )
        if row.failing_step_name or row.failing_step_path:
            step = self.steps.id((row.failing_step_name or "", row.failing_step_path or ""))
        else:
            step = NO_STEP
        return attr, step

    def _append(self, row: HeaderRow, code: int) -> int | None:
        """Add a run; returns it when its start is before the newest start (a late run)."""
        run = len(self.start)
        start = float(row.start_utc or 0.0)
        attr, step = self._attrs_of(row)
        unit = self._unit_for(row.sn or "", row.pn or "", code)
        if self.key and row.key < self.key[-1]:
            self._keys_sorted = False
        self._key_order = None
        self.start.append(start)
        self.unit.append(unit)
        self.result.append(RESULT_CODES.get((row.result or "").upper(), OTHER_RESULT))
        self.attr.append(attr)
        self.step.append(step)
        self.next.append(-1)
        self.key.append(row.key)
        self.alive.append(1)
        self._link(unit, run)
        self.live_runs += 1
        if self.order_start and start < self.order_start[-1]:
            return run
        self.order.append(run)
        self.order_start.append(start)
        return None

    def _place_late(self, late: list[int]) -> None:
        """Put runs that arrived out of start order into `order`: a few one by one, many by
        re-sorting once (before the next read)."""
        if self._order_dirty or len(late) > _INSERT_LIMIT:
            self.order.extend(late)
            self.order_start.extend(self.start[run] for run in late)
            self._order_dirty = True
            return
        for run in late:
            start = self.start[run]
            pos = bisect_right(self.order_start, start)
            self.order.insert(pos, run)
            self.order_start.insert(pos, start)

    def _replace(self, run: int, row: HeaderRow, code: int) -> bool:
        """Update a run in place from a newer version of its row; False if nothing changed."""
        start = float(row.start_utc or 0.0)
        attr, step = self._attrs_of(row)
        result = RESULT_CODES.get((row.result or "").upper(), OTHER_RESULT)
        unit = self._unit_for(row.sn or "", row.pn or "", code)
        same = (
            self.alive[run]
            and self.start[run] == start
            and self.unit[run] == unit
            and self.result[run] == result
            and self.attr[run] == attr
            and self.step[run] == step
        )
        if same:
            return False
        if self.alive[run]:
            self._unlink(self.unit[run], run)
        else:
            self.live_runs += 1
        if self.start[run] != start:
            self._order_dirty = True  # rare (a resubmit that moved the start): re-sort once
        self.start[run] = start
        self.unit[run] = unit
        self.result[run] = result
        self.attr[run] = attr
        self.step[run] = step
        self.alive[run] = 1
        self._link(unit, run)
        return True

    def _kill(self, run: int) -> None:
        self._unlink(self.unit[run], run)
        self.alive[run] = 0
        self.live_runs -= 1
        self.version += 1

    def _link(self, unit: int, run: int) -> None:
        """Insert `run` into its unit's chain by (start, key)."""
        start, key = self.start[run], self.key[run]
        first = self.unit_first[unit]
        if first < 0 or (start, key) < (self.start[first], self.key[first]):
            self.next[run] = first
            self.unit_first[unit] = run
            return
        prev = first
        nxt = self.next[prev]
        while nxt >= 0 and (self.start[nxt], self.key[nxt]) <= (start, key):
            prev = nxt
            nxt = self.next[nxt]
        self.next[run] = nxt
        self.next[prev] = run

    def _unlink(self, unit: int, run: int) -> None:
        if self.unit_first[unit] == run:
            self.unit_first[unit] = self.next[run]
        else:
            prev = self.unit_first[unit]
            while prev >= 0 and self.next[prev] != run:
                prev = self.next[prev]
            if prev >= 0:
                self.next[prev] = self.next[run]
        self.next[run] = -1

    def _find(self, key: int) -> int | None:
        """The run holding `key`, or None."""
        keys = self.key
        if not keys or (self._keys_sorted and key > keys[-1]):
            return None
        if self._keys_sorted:
            pos = bisect_left(keys, key)
            return pos if pos < len(keys) and keys[pos] == key else None
        if self._key_order is None:
            self._key_order = array("i", sorted(range(len(keys)), key=keys.__getitem__))
        order = self._key_order
        lo, hi = 0, len(order)
        while lo < hi:
            mid = (lo + hi) // 2
            if keys[order[mid]] < key:
                lo = mid + 1
            else:
                hi = mid
        return order[lo] if lo < len(order) and keys[order[lo]] == key else None

    # ------------------------------------------------------------ reading

    def _sorted(self) -> None:
        if self._order_dirty:
            start = self.start
            self.order = array("i", sorted(range(len(start)), key=start.__getitem__))
            self.order_start = array("d", (start[run] for run in self.order))
            self._order_dirty = False

    def span(self, start: float | None, end: float | None) -> tuple[int, int]:
        """Positions in `order` of the runs with start in [start, end) (None: unbounded)."""
        self._sorted()
        lo = 0 if start is None else bisect_left(self.order_start, start)
        hi = len(self.order) if end is None else bisect_left(self.order_start, end)
        return lo, hi

    def first_runs(self, start: float | None, end: float | None) -> Iterator[int]:
        """Runs that are their unit's first, with start in [start, end), oldest first."""
        lo, hi = self.span(start, end)
        order, unit, first = self.order, self.unit, self.unit_first
        for pos in range(lo, hi):
            run = order[pos]
            if first[unit[run]] == run:
                yield run

    def first_runs_newest(self, end: float | None = None) -> Iterator[int]:
        """Units' first runs from the newest back (start before `end` when given)."""
        _, hi = self.span(None, end)
        order, unit, first = self.order, self.unit, self.unit_first
        for pos in range(hi - 1, -1, -1):
            run = order[pos]
            if first[unit[run]] == run:
                yield run

    def runs_of(self, first_run: int) -> Iterator[int]:
        """A unit's runs in start order, from its first run."""
        run = first_run
        nxt = self.next
        while run >= 0:
            yield run
            run = nxt[run]

    @property
    def unit_count(self) -> int:
        return sum(1 for first in self.unit_first if first >= 0)

    def process_label(self, code: int) -> str:
        name = self.process_names.get(code)
        return f"{code} {name}" if name else str(code)
