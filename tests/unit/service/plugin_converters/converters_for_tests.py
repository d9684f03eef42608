"""Converters that misbehave on purpose, loaded by conversion children as a plug-in folder.

The pool's children import every `*.py` in their plug-in folders, so these run in a real
child process exactly like a user's plug-in would.
"""

from __future__ import annotations

import ctypes
import os
import time
from typing import ClassVar

from app.converters.base import ConversionError, Converter, ConverterSource, Report
from app.core.report import parse_report


class LineConverter(Converter):
    """`PN;SN;value` per file: one UUT with a numeric step limited to 4.9..5.1, no id."""

    name: ClassVar[str] = "test-lines"
    patterns: ClassVar[tuple[str, ...]] = ("*.txt",)

    def convert(self, source: ConverterSource) -> list[Report]:
        text = source.read_text().strip()
        try:
            pn, sn, value = text.split(";")
            number = float(value)
        except ValueError as exc:
            raise ConversionError("expected PN;SN;value", line=1) from exc
        return [
            parse_report(
                {
                    "type": "T",
                    "pn": pn,
                    "sn": sn,
                    "rev": "",
                    "processCode": 10,
                    "result": "P",
                    "machineName": "",
                    "start": "2025-03-01T10:15:00+01:00",
                    "root": {
                        "id": 0,
                        "group": "M",
                        "stepType": "SequenceCall",
                        "name": "MainSequence Callback",
                        "status": "P",
                        "steps": [
                            {
                                "id": 1,
                                "group": "M",
                                "stepType": "ET_NLT",
                                "name": "Supply",
                                "status": "P",
                                "numericMeas": [
                                    {
                                        "name": None,
                                        "status": "P",
                                        "compOp": "GELE",
                                        "value": number,
                                        "lowLimit": 4.9,
                                        "highLimit": 5.1,
                                    }
                                ],
                            }
                        ],
                    },
                }
            )
        ]


class RaisingConverter(Converter):
    name: ClassVar[str] = "test-raising"
    patterns: ClassVar[tuple[str, ...]] = ("*.txt",)

    def convert(self, source: ConverterSource) -> list[Report]:
        raise ValueError("unexpected byte soup")


class HangingConverter(Converter):
    name: ClassVar[str] = "test-hanging"
    patterns: ClassVar[tuple[str, ...]] = ("*.txt",)

    def convert(self, source: ConverterSource) -> list[Report]:
        time.sleep(3600)
        return []


class ExitingConverter(Converter):
    name: ClassVar[str] = "test-exiting"
    patterns: ClassVar[tuple[str, ...]] = ("*.txt",)

    def convert(self, source: ConverterSource) -> list[Report]:
        os._exit(3)


class SegfaultConverter(Converter):
    name: ClassVar[str] = "test-segfault"
    patterns: ClassVar[tuple[str, ...]] = ("*.txt",)

    def convert(self, source: ConverterSource) -> list[Report]:
        ctypes.string_at(0)  # reads address 0: the process dies of SIGSEGV
        return []
