"""User converters: `.py` files in the instance's converter folder and installed entry points.

A plug-in is a `Converter` subclass with a `name` (DESIGN.md §6). Two ways to add one:

- drop a `.py` file into the converter folder (`InstancePaths.plugin_dir`, i.e.
  `<config>/converters`); every `Converter` subclass *defined* in it (not imported into it)
  is loaded. Files whose names start with `_` or `.` are skipped, so helpers and editor
  back-ups stay out;
- install a package that declares entry points in the group `wats_station.converters`,
  each naming a converter class (or a module whose converter classes are all loaded).

A broken plug-in never stops the others. Each problem — a syntax error, an import that
fails, a file without a converter class, a class without a usable name, an abstract class,
a name that a built-in or an earlier plug-in already has — becomes a `PluginProblem` naming
the file or entry point and what is wrong, and the rest load. Built-ins always keep their
names; among plug-ins the first one loaded wins (files in name order, then entry points).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import inspect
import re
import sys
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Final

from app.converters.base import Converter

ENTRY_POINT_GROUP: Final = "wats_station.converters"
# The names the configuration accepts for a converter (app.core.config.ConverterConfig).
_USABLE_NAME: Final = re.compile(r"[A-Za-z0-9_.\-]+")


@dataclass(frozen=True)
class PluginProblem:
    """A plug-in that could not be (fully) loaded: `source` is its file or entry point."""

    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


class PluginLoadError(Exception):
    """A plug-in file or entry point that cannot be imported; `str()` says why."""


def load_plugins(
    plugin_dirs: Iterable[str | Path] = (),
    *,
    taken: Collection[str] = (),
    entry_points: bool = True,
) -> tuple[dict[str, type[Converter]], list[PluginProblem]]:
    """Every plug-in converter by name, and the problems met on the way.

    `taken` holds the names already in use (the built-ins); a plug-in claiming one is a
    problem, not a replacement.
    """
    loaded: dict[str, type[Converter]] = {}
    origin: dict[str, str] = dict.fromkeys(taken, "a built-in converter")
    problems: list[PluginProblem] = []

    def add(classes: list[type[Converter]], source: str) -> None:
        for cls in classes:
            problem = _name_problem(cls, origin)
            if problem is not None:
                problems.append(PluginProblem(source, problem))
                continue
            loaded[cls.name] = cls
            origin[cls.name] = source

    for file in plugin_files(plugin_dirs):
        try:
            classes = load_plugin_file(file)
        except PluginLoadError as exc:
            problems.append(PluginProblem(str(file), str(exc)))
            continue
        if not classes:
            problems.append(PluginProblem(str(file), "defines no Converter subclass"))
        add(classes, str(file))
    if entry_points:
        for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            source = f"entry point {entry.name} ({entry.value})"
            try:
                classes = _load_entry_point(entry)
            except PluginLoadError as exc:
                problems.append(PluginProblem(source, str(exc)))
                continue
            add(classes, source)
    return loaded, problems


def plugin_files(plugin_dirs: Iterable[str | Path]) -> list[Path]:
    """The plug-in files of the folders, in name order; missing folders have none."""
    files: list[Path] = []
    for folder in map(Path, plugin_dirs):
        if folder.is_dir():
            files.extend(
                path
                for path in sorted(folder.glob("*.py"))
                if path.is_file() and not path.name.startswith(("_", "."))
            )
    return files


def load_plugin_file(path: Path) -> list[type[Converter]]:
    """Import one plug-in file (afresh each time) and return the converter classes it defines.

    Abstract classes are left out only when they have no name of their own (a shared base);
    a named abstract class is a mistake and raises. Raises PluginLoadError with the reason.
    """
    module_name = _module_name(path)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise PluginLoadError("cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    # In sys.modules while it runs, as for any import: dataclasses and pickling need it.
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(module_name, None)
        where = f"line {exc.lineno}: " if exc.lineno else ""
        raise PluginLoadError(f"syntax error: {where}{exc.msg}") from None
    except ImportError as exc:
        sys.modules.pop(module_name, None)
        raise PluginLoadError(f"an import failed: {exc}") from None
    except (Exception, SystemExit) as exc:
        sys.modules.pop(module_name, None)
        raise PluginLoadError(f"failed while loading: {_describe(exc)}") from None
    return _converters_defined_in(module)


def _module_name(path: Path) -> str:
    # Unique per file, so two folders may each hold an "ict.py"; readable in tracebacks.
    digest = hashlib.sha1(str(path.resolve()).encode(), usedforsecurity=False).hexdigest()[:8]
    stem = re.sub(r"\W", "_", path.stem)
    return f"wats_station_plugin_{stem}_{digest}"


def _converters_defined_in(module: ModuleType) -> list[type[Converter]]:
    found: list[type[Converter]] = []
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, Converter)
            and value is not Converter
            and value.__module__ == module.__name__
        ):
            if inspect.isabstract(value) and "name" not in vars(value):
                continue  # a shared base class of the file's converters
            found.append(value)
    return found


def _load_entry_point(entry: importlib.metadata.EntryPoint) -> list[type[Converter]]:
    try:
        loaded = entry.load()
    except SyntaxError as exc:
        where = f" ({exc.filename}, line {exc.lineno})" if exc.lineno else ""
        raise PluginLoadError(f"syntax error{where}: {exc.msg}") from None
    except ImportError as exc:
        raise PluginLoadError(f"an import failed: {exc}") from None
    except (Exception, SystemExit) as exc:
        raise PluginLoadError(f"failed while loading: {_describe(exc)}") from None
    if isinstance(loaded, ModuleType):
        classes = _converters_defined_in(loaded)
        if not classes:
            raise PluginLoadError("the module defines no Converter subclass")
        return classes
    if isinstance(loaded, type) and issubclass(loaded, Converter):
        return [loaded]
    raise PluginLoadError(f"{entry.value} is not a Converter subclass")


def _name_problem(cls: type[Converter], origin: dict[str, str]) -> str | None:
    """Why `cls` cannot be registered, or None when it can."""
    name = getattr(cls, "name", None)
    label = f"class {cls.__name__}"
    if not isinstance(name, str) or not name.strip():
        return f'{label} has no name (set name = "..." on the class)'
    if not _USABLE_NAME.fullmatch(name):
        return (
            f"{label} is named {name!r}; a converter name may only hold letters, digits, "
            "'_', '.' and '-'"
        )
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
        return f"{label} ({name!r}) does not implement {missing}"
    if name in origin:
        return f"{label} is named {name!r}, which {_owner(origin[name])} already has"
    return None


def _owner(source: str) -> str:
    return source if source == "a built-in converter" else f"the plug-in {source}"


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
