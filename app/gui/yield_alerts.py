"""Desktop notifications for yield alarms (FPY below target, units failing in a row, a step
that suddenly dominates): the worker raises them as `alarm` events; the tray shows them."""

from __future__ import annotations

from typing import Any

from app.gui.tray import Tray

TITLES = {
    "yield_fpy": "Yield below target",
    "yield_failures": "Units keep failing",
    "yield_step": "One step causes most failures",
}


def notify_yield_alarms(tray: Tray) -> None:
    """Follow the tray's worker link and notify each yield alarm once, when raised."""

    def on_alarm(data: Any) -> None:
        if not isinstance(data, dict) or not data.get("raised"):
            return
        kind = str(data.get("kind", ""))
        if kind not in TITLES:
            return
        message = str(data.get("message") or "Open the yield monitor for details.")
        tray.notify(TITLES[kind], message, critical=message.startswith("Yield alarm"))

    tray.link.alarm.connect(on_alarm)
