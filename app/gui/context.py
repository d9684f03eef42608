"""What every page needs: the worker link, the instance's folders, the GUI's preferences, and
a way to ask the application for things (show a page, run the wizard)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.core.paths import InstancePaths
from app.gui.gui_settings import GuiSettings
from app.gui.worker_link import WorkerLink


@dataclass
class GuiContext:
    instance: str
    link: WorkerLink
    paths: InstancePaths
    settings: GuiSettings
    show_page: Callable[[str], None] = field(default=lambda _name: None)
    run_wizard: Callable[[], None] = field(default=lambda: None)
    restart_worker: Callable[[], None] = field(default=lambda: None)
    toggle_uploads: Callable[[], None] = field(default=lambda: None)
