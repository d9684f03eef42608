"""Which converters exist: the built-in ones by name (plug-ins come from app.converters.plugins)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from app.converters.atml import AtmlConverter
from app.converters.base import Converter
from app.converters.plugins import PluginProblem, load_plugins
from app.converters.table import TableConverter
from app.converters.teradyne_i3070 import TeradyneI3070Converter
from app.converters.wsjf import WsjfConverter
from app.converters.wstf import WstfConverter
from app.converters.wsxf import WsxfConverter

BUILTIN: tuple[type[Converter], ...] = (
    WsjfConverter,
    TableConverter,
    WsxfConverter,
    WstfConverter,
    AtmlConverter,
    TeradyneI3070Converter,
)


class UnknownConverterError(LookupError):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"no converter named {name!r}; known converters: {', '.join(known)}")


def builtin_converters() -> dict[str, type[Converter]]:
    return {cls.name: cls for cls in BUILTIN}


def get_converter(name: str) -> type[Converter]:
    converters = builtin_converters()
    try:
        return converters[name]
    except KeyError:
        raise UnknownConverterError(name, sorted(converters)) from None


def all_converters(
    plugin_dirs: Iterable[str | Path] = (),
) -> tuple[dict[str, type[Converter]], list[PluginProblem]]:
    """Built-ins and plug-ins (folders, then entry points) by name, and the plug-in problems.

    A plug-in never replaces a built-in: one with a built-in's name is reported instead.
    """
    builtins = builtin_converters()
    plugins, problems = load_plugins(plugin_dirs, taken=builtins)
    return {**builtins, **plugins}, problems
