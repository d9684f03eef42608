"""Which converters exist: the built-in ones by name (plug-ins come from app.converters.plugins)."""

from __future__ import annotations

from app.converters.base import Converter
from app.converters.wsjf import WsjfConverter

BUILTIN: tuple[type[Converter], ...] = (WsjfConverter,)


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
