"""The queue as a table model that never holds more than a window of it.

`rowCount()` is the total the worker reports, so the scroll bar is true for 100,000 rows;
rows are fetched in pages of `PAGE_SIZE` from `queue.list` only when the view asks for them
(i.e. when they are painted). A page not loaded yet shows "…" until it arrives. On a change
(queue events), the pages are fetched again while the old ones stay on screen, so a flood
of new reports neither blanks nor freezes the table. Old answers (a filter changed while a
page was on its way) are dropped by generation number.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from app.gui.async_ops import current_loop, describe_error
from app.gui.formats import format_time
from app.gui.theme import Severity, severity_color

PAGE_SIZE = 200
MAX_PAGES = 40  # cached pages (8,000 rows); the least recently used ones are dropped

STATE_WORDS = {
    "queued": "Waiting",
    "uploading": "Uploading",
    "uploaded": "Uploaded",
    "rejected": "Rejected",
}
# (key, header); key is what `display()` reads from a row.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("state", "State"),
    ("time", "Test time"),
    ("sn", "Serial number"),
    ("pn", "Part number"),
    ("process", "Process"),
    ("attempts", "Attempts"),
    ("last_error", "Last error"),
)
LOADING = "…"

Fetch = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
Index = QModelIndex | QPersistentModelIndex


def display(row: dict[str, Any], key: str) -> str:
    if key == "state":
        state = str(row.get("state", ""))
        words = STATE_WORDS.get(state, state)
        if state == "queued" and row.get("last_error"):
            words = "Waiting (retry)"
        return words
    if key == "time":
        return format_time(row.get("start") or row.get("created_at"))
    if key == "process":
        return " ".join(
            str(p)
            for p in (row.get("process_code"), row.get("process_name"))
            if p not in (None, "")
        )
    if key == "attempts":
        return str(row.get("attempts") or 0)
    if key == "last_error":
        return " ".join(str(row.get("last_error") or "").split())
    value = row.get(key)
    return "" if value is None else str(value)


class QueueModel(QAbstractTableModel):
    total_changed = Signal(int)
    loading_changed = Signal(bool)
    failed = Signal(str)  # a page could not be fetched (plain words)

    def __init__(self, fetch: Fetch, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fetch = fetch
        self._total = 0
        self._pages: OrderedDict[int, list[dict[str, Any]]] = OrderedDict()
        self._stale: dict[int, list[dict[str, Any]]] = {}
        self._pending: set[int] = set()
        self._generation = 0
        self._filters: dict[str, Any] = {"sort": "created_desc"}
        self._tasks: set[asyncio.Task[None]] = set()
        self.pages_fetched = 0  # for tests and the benchmark
        self.first_page_loaded = False

    # ------------------------------------------------------------ Qt model API

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._total

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][1]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.row(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            if row is None:
                return LOADING if index.column() == 0 else ""
            return display(row, COLUMNS[index.column()][0])
        if row is None:
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            state = row.get("state")
            if state == "rejected":
                return severity_color(Severity.ERROR)
            if state == "queued" and row.get("last_error") and index.column() in (0, 6):
                return severity_color(Severity.WARNING)
            return None
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 6:
            return str(row.get("last_error") or "") or None
        if role == Qt.ItemDataRole.UserRole:
            return row
        return None

    # ------------------------------------------------------------ rows

    def row(self, number: int) -> dict[str, Any] | None:
        """The row if loaded (or still shown from before a refresh); else fetch its page."""
        if number < 0 or number >= self._total:
            return None
        page, offset = divmod(number, PAGE_SIZE)
        rows = self._pages.get(page)
        if rows is not None:
            self._pages.move_to_end(page)
        else:
            self._request(page)
            rows = self._stale.get(page)
        if rows is None or offset >= len(rows):
            return None
        return rows[offset]

    def loaded_row(self, number: int) -> dict[str, Any] | None:
        """The row if it is loaded, without fetching anything."""
        page, offset = divmod(number, PAGE_SIZE)
        rows = self._pages.get(page) or self._stale.get(page)
        return rows[offset] if rows is not None and offset < len(rows) else None

    def row_ids(self, numbers: list[int]) -> list[str]:
        ids = []
        for number in numbers:
            row = self.loaded_row(number)
            if row is not None and row.get("id"):
                ids.append(str(row["id"]))
        return ids

    def find_row(self, report_id: str) -> int | None:
        for page, rows in self._pages.items():
            for offset, row in enumerate(rows):
                if row.get("id") == report_id:
                    return page * PAGE_SIZE + offset
        return None

    @property
    def total(self) -> int:
        return self._total

    @property
    def filters(self) -> dict[str, Any]:
        return dict(self._filters)

    @property
    def loading(self) -> bool:
        return bool(self._pending)

    # ------------------------------------------------------------ fetching

    def set_filters(self, *, state: str | None, search: str | None, sort: str) -> None:
        """New filter: start over from the first page."""
        filters: dict[str, Any] = {"sort": sort}
        if state:
            filters["state"] = state
        if search:
            filters["search"] = search
        if filters == self._filters and self.first_page_loaded:
            return
        self._filters = filters
        self._generation += 1
        self.beginResetModel()
        self._pages.clear()
        self._stale = {}
        self._pending.clear()
        self._total = 0
        self.endResetModel()
        self.total_changed.emit(0)
        self._request(0)

    def refresh(self) -> None:
        """The queue changed: fetch again, keeping the current rows on screen meanwhile."""
        self._generation += 1
        self._stale = {**self._stale, **self._pages}
        self._pages = OrderedDict()
        self._pending.clear()
        self._request(0)  # brings the new total
        if self._total:
            # Repaint: the view asks for the rows it shows, which fetches their pages.
            self.dataChanged.emit(self.index(0, 0), self.index(self._total - 1, len(COLUMNS) - 1))

    def _request(self, page: int) -> None:
        if page in self._pending:
            return
        loop = current_loop()
        if loop is None or loop.is_closed():
            return  # shutting down
        was_loading = bool(self._pending)
        self._pending.add(page)
        if not was_loading:
            self.loading_changed.emit(True)
        task = loop.create_task(self._load(page, self._generation))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _load(self, page: int, generation: int) -> None:
        params = {**self._filters, "offset": page * PAGE_SIZE, "limit": PAGE_SIZE}
        try:
            result = await self._fetch(params)
        except Exception as exc:
            if generation == self._generation:
                self._pending.discard(page)
                self._loading_done()
                self.failed.emit(describe_error(exc))
            return
        if generation != self._generation:
            return
        self._pending.discard(page)
        self.pages_fetched += 1
        rows = list(result.get("rows") or [])
        self._set_total(int(result.get("total", 0)))
        self._pages[page] = rows
        self._stale.pop(page, None)
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
        self.first_page_loaded = True
        first = page * PAGE_SIZE
        last = min(first + len(rows), self._total) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))
        self._loading_done()

    def _loading_done(self) -> None:
        if not self._pending:
            self.loading_changed.emit(False)

    def _set_total(self, total: int) -> None:
        if total == self._total:
            return
        if total > self._total:
            self.beginInsertRows(QModelIndex(), self._total, total - 1)
            self._total = total
            self.endInsertRows()
        else:
            self.beginRemoveRows(QModelIndex(), total, self._total - 1)
            self._total = total
            self._stale = {p: r for p, r in self._stale.items() if p * PAGE_SIZE < total}
            self.endRemoveRows()
        self.total_changed.emit(total)

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()
