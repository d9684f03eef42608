"""Showing the result of `connection.test`: one line per check, in plain words."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from app.gui.theme import Severity, severity_color

CHECK_NAMES = {
    "reachable": "Server reachable",
    "tls": "Secure connection (TLS)",
    "auth": "Token accepted",
    "server version": "Server version",
    "version": "Server version",
    "clock": "Station clock",
}
OUTCOME_WORDS = {"ok": "OK", "warn": "Warning", "fail": "Failed", "skip": "Not checked"}
OUTCOME_SEVERITY = {"warn": Severity.WARNING, "fail": Severity.ERROR}
# What to do when a check fails, added under the worker's own explanation.
ADVICE = {
    "reachable": "Check the address and port, the network cable, and ask IT whether a "
    "firewall or proxy is in the way.",
    "tls": "If your company uses its own certificates, ask IT for the CA file and set it, or "
    "check the station's date and time.",
    "auth": "Create a new token in WATS (Control Panel → API settings) and paste it here.",
}


def check_title(name: str) -> str:
    return CHECK_NAMES.get(name.lower(), name[:1].upper() + name[1:])


def summary(result: dict[str, Any]) -> tuple[str, Severity]:
    checks = result.get("checks") or []
    failed = [c for c in checks if c.get("outcome") == "fail"]
    warned = [c for c in checks if c.get("outcome") == "warn"]
    if failed or not result.get("ok", not failed):
        first = failed[0] if failed else {}
        name = check_title(str(first.get("name", "")))
        advice = ADVICE.get(str(first.get("name", "")).lower(), "")
        text = f"Connection failed at “{name}”: {first.get('detail', '')}"
        return (f"{text} {advice}".strip(), Severity.ERROR)
    if warned:
        return ("The connection works, with warnings (see below).", Severity.WARNING)
    return ("The connection works: the server answered and accepted the token.", Severity.NORMAL)


class CheckList(QTreeWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(3)
        self.setHeaderLabels(["Check", "Result", "Details"])
        self.setRootIsDecorated(False)
        self.setWordWrap(True)
        self.setAccessibleName("Connection test results")
        header = self.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.setMinimumHeight(150)

    def show_result(self, result: dict[str, Any] | None) -> None:
        self.clear()
        for check in (result or {}).get("checks") or []:
            name = str(check.get("name", ""))
            outcome = str(check.get("outcome", ""))
            item = QTreeWidgetItem(
                [
                    check_title(name),
                    OUTCOME_WORDS.get(outcome, outcome),
                    str(check.get("detail", "")),
                ]
            )
            item.setToolTip(2, str(check.get("detail", "")))
            severity = OUTCOME_SEVERITY.get(outcome)
            if severity is not None:
                item.setForeground(1, severity_color(severity))
            self.addTopLevelItem(item)

    def outcomes(self) -> dict[str, str]:
        """{check: result} as shown (tests and screenshots read it)."""
        result = {}
        for index in range(self.topLevelItemCount()):
            item = self.topLevelItem(index)
            if item is not None:
                result[item.text(0)] = item.text(1)
        return result
