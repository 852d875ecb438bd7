"""A DCMTK-style log of one exchange (`I:` info, `D:` debug, `E:` error lines), as the seed's
clients show it in `output`. Built from pynetdicom's per-association notification events, so
concurrent associations never mix their lines."""

from __future__ import annotations

import threading
from typing import Any

from pynetdicom import evt

_RULE_OUT = "===================== OUTGOING DIMSE MESSAGE ===================="
_RULE_IN = "===================== INCOMING DIMSE MESSAGE ===================="
_RULE_END = "======================= END DIMSE MESSAGE ======================="
_MAX_LINES = 2000


class DcmtkLog:
    def __init__(self, *, verbose: bool = False, debug: bool = False) -> None:
        self.verbose = verbose or debug
        self.debug = debug
        self._lines: list[str] = []
        self._lock = threading.Lock()

    # -- writing ------------------------------------------------------------------------------
    def _add(self, prefix: str, text: str) -> None:
        with self._lock:
            if len(self._lines) < _MAX_LINES:
                self._lines.append(f"{prefix}: {text}")
            elif len(self._lines) == _MAX_LINES:
                self._lines.append("I: (log truncated)")

    def info(self, text: str) -> None:
        self._add("I", text)

    def verbose_info(self, text: str) -> None:
        if self.verbose:
            self._add("I", text)

    def error(self, text: str) -> None:
        self._add("E", text)

    def debug_line(self, text: str) -> None:
        if self.debug:
            self._add("D", text)

    def text(self) -> str:
        with self._lock:
            return "".join(line + "\n" for line in self._lines)

    # -- pynetdicom events --------------------------------------------------------------------
    def handlers(self) -> list[Any]:
        if not self.debug:
            return []
        return [(evt.EVT_DIMSE_SENT, self._dimse_sent), (evt.EVT_DIMSE_RECV, self._dimse_recv)]

    def _dimse(self, rule: str, event: Any) -> None:
        msg = event.message
        self.debug_line(rule)
        self.debug_line(f"Message Type                  : {type(msg).__name__.replace('_', '-')}")
        ctx = getattr(msg, "context_id", None)
        if ctx is not None:
            self.debug_line(f"Presentation Context ID       : {ctx}")
        cs = getattr(msg, "command_set", None)
        if cs is not None:
            for elem in cs:
                if elem.keyword in ("CommandGroupLength",):
                    continue
                self.debug_line(f"{elem.name:<30}: {elem.value}")
        has_data = getattr(msg, "data_set", None) is not None
        self.debug_line(f"Data Set                      : {'present' if has_data else 'none'}")
        self.debug_line(_RULE_END)

    def _dimse_sent(self, event: Any) -> None:
        self._dimse(_RULE_OUT, event)

    def _dimse_recv(self, event: Any) -> None:
        self._dimse(_RULE_IN, event)
