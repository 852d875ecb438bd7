"""The byte link to a device: pyserial-asyncio-fast opened with `serial_for_url`, so one driver runs on a
real port (`/dev/ttyS0`, `/dev/ttyUSB0`; 19200 8N1 as the seed's `connections`), a pty, or
`socket://host:port`. Opening runs in a thread (pyserial's open blocks); reads and writes are event-loop
callbacks. Decoded frames go to `on_frame`; a closed or failed link calls `on_lost` once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import serial
import serial_asyncio_fast

from dros.device.framing import FrameDecoder

FrameHandler = Callable[[tuple[str, ...]], None]


class _LinkProtocol(asyncio.Protocol):
    def __init__(self, link: SerialLink) -> None:
        self.link = link

    def data_received(self, data: bytes) -> None:
        link = self.link
        link.bytes_in += len(data)
        for frame in link.decoder.feed(data):
            link.on_frame(frame)

    def connection_lost(self, exc: Exception | None) -> None:
        self.link._lost()


class SerialLink:
    """One open link. Use `await SerialLink.open(...)`; `write` never blocks; `close` is idempotent."""

    def __init__(self, on_frame: FrameHandler, on_lost: Callable[[], None]) -> None:
        self.on_frame = on_frame
        self._on_lost = on_lost
        self.decoder = FrameDecoder()
        self._transport: asyncio.Transport | None = None
        self._closed = False
        self.bytes_in = 0
        self.bytes_out = 0

    @classmethod
    async def open(
        cls,
        url: str,
        on_frame: FrameHandler,
        on_lost: Callable[[], None],
        *,
        baudrate: int = 19200,
        timeout_s: float = 2.0,
    ) -> SerialLink:
        link = cls(on_frame, on_lost)
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await asyncio.wait_for(
                serial_asyncio_fast.create_serial_connection(
                    loop,
                    lambda: _LinkProtocol(link),
                    url,
                    baudrate=baudrate,
                    bytesize=serial.EIGHTBITS,
                    parity=serial.PARITY_NONE,
                    stopbits=serial.STOPBITS_ONE,
                ),
                timeout_s,
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise ConnectionError(f"cannot open {url}: {exc}") from exc
        link._transport = transport
        return link

    @property
    def is_open(self) -> bool:
        return self._transport is not None and not self._closed

    def write(self, data: bytes) -> None:
        if self._transport is None or self._closed:
            raise ConnectionError("link closed")
        self._transport.write(data)
        self.bytes_out += len(data)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._transport is not None:
            with contextlib.suppress(Exception):
                self._transport.abort()

    def _lost(self) -> None:
        was_closed = self._closed
        self._closed = True
        if not was_closed:
            self._on_lost()
