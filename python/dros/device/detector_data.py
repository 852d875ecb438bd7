"""Receiving side of the detector's data channel (docs/detector-protocol.md §4): frame reassembly, checksum
verification and resynchronisation, without stalling the event loop.

The protocol is an `asyncio.BufferedProtocol`: once a header is accepted the socket reads straight into the
frame's own buffer (no copies on the loop, whatever the frame size). The payload CRC32 (≈ 10 ms for a
3072² frame) runs in a thread while reading is paused, so bytes stay in order. Anything that is not a
valid frame is skipped: bytes before a magic, headers whose own CRC fails, headers with an impossible or
oversized size. A payload that fails its CRC is refused (reported with its frame id, which the header CRC
vouches for) and the bytes after its magic are scanned again, so a truncated frame followed by the next
frame loses only the truncated one.
"""

from __future__ import annotations

import asyncio
import ctypes
import sys
import time
import zlib
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from dros.device.detector_wire import (
    DEFAULT_MAX_FRAME_BYTES,
    HEADER_SIZE,
    MAGIC,
    FrameHeader,
    HeaderError,
    unpack_header,
)
from dros.direct_io import aligned_empty

#: Read size while looking for a header (the payload itself is read into its own buffer).
SCAN_CHUNK = 256 * 1024
#: Largest single read into a payload: one read (copy plus first touch of fresh pages) stays well under a
#: millisecond of loop time however much the socket holds.
PAYLOAD_READ_MAX = 256 * 1024
#: Buffers of delivered frames kept for reuse (first-touch page faults of fresh memory took up to 100 µs
#: per page on the loop — 6 ms per read — on a loaded VM).
POOL_SIZE = 2


class FrameSink(Protocol):
    def frame_received(self, header: FrameHeader, pixels: npt.NDArray[np.uint16], received_at: float) -> None: ...

    def frame_refused(self, frame_id: int | None, reason: str) -> None: ...

    def data_link_lost(self, exc: Exception | None) -> None: ...


@dataclass(slots=True)
class ReceiverStats:
    frames: int = 0
    corrupt: int = 0  # payload CRC mismatch
    truncated: int = 0  # the link dropped inside a payload
    headers_refused: int = 0  # CRC-valid headers with an impossible or oversized size
    garbage_bytes: int = 0  # bytes skipped while looking for a header
    bytes_received: int = 0


class FrameReceiver(asyncio.BufferedProtocol):
    def __init__(
        self, sink: FrameSink, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES, expected_bytes: int = 0
    ) -> None:
        self._sink = sink
        self._max = max_frame_bytes
        self._scan = bytearray()
        self._chunk = bytearray(SCAN_CHUNK)
        self._header: FrameHeader | None = None
        self._header_bytes = b""
        self._payload: npt.NDArray[np.uint8] | None = None
        self._filled = 0
        self._verifying = False
        self._transport: asyncio.BaseTransport | None = None
        self._task: asyncio.Task[None] | None = None
        self.stats = ReceiverStats()
        self.closed = asyncio.get_running_loop().create_future()
        # The next frame's buffer, allocated and written once in a thread: the first write to fresh memory
        # faults every page in (milliseconds per read on a VM), and that must not happen on the loop.
        self._spare: npt.NDArray[np.uint8] | None = None
        self._spare_task: asyncio.Task[None] | None = None
        self._pool: list[npt.NDArray[np.uint8]] = []  # buffers of frames handed over, reused once released
        if 0 < expected_bytes <= max_frame_bytes:
            self._prepare_spare(expected_bytes)

    # --- asyncio protocol ------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        if self._payload is not None and not self._verifying:
            return self._payload.data[self._filled : self._filled + PAYLOAD_READ_MAX]
        return memoryview(self._chunk)

    def buffer_updated(self, nbytes: int) -> None:
        self.stats.bytes_received += nbytes
        if self._payload is not None and not self._verifying:
            self._filled += nbytes
            if self._filled == len(self._payload):
                self._complete()
            return
        self._scan += memoryview(self._chunk)[:nbytes]
        self._parse()

    def eof_received(self) -> bool | None:
        return None  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        if self._payload is not None and not self._verifying and self._header is not None:
            header, filled = self._header, self._filled
            self.stats.truncated += 1
            # frames that followed the cut-off one are inside its buffer: deliver the complete ones
            tail = self._header_bytes[len(MAGIC) :] + bytes(self._payload.data[:filled])
            self._payload = None
            self._header = None
            self._sink.frame_refused(
                header.frame_id, f"frame {header.frame_id} truncated: {filled} of {header.payload_size} bytes"
            )
            self._scan[:0] = tail
            self._parse(final=True)
        if not self.closed.done():
            self.closed.set_result(None)
        self._sink.data_link_lost(exc)

    # --- parsing ---------------------------------------------------------------------------------------

    def _parse(self, final: bool = False) -> None:
        scan = self._scan
        while not self._verifying and self._payload is None:
            i = scan.find(MAGIC)
            if i < 0:
                keep = min(len(scan), len(MAGIC) - 1)  # a magic may be split across reads
                self.stats.garbage_bytes += len(scan) - keep
                del scan[: len(scan) - keep]
                return
            if i:
                self.stats.garbage_bytes += i
                del scan[:i]
            if len(scan) < HEADER_SIZE:
                return
            try:
                header = unpack_header(scan, self._max)
            except HeaderError as exc:
                if exc.frame_id is not None:  # a real header, but a frame we will not take
                    self.stats.headers_refused += 1
                    self._sink.frame_refused(exc.frame_id, f"frame {exc.frame_id} refused: {exc}")
                self.stats.garbage_bytes += 1
                del scan[:1]
                continue
            available = len(scan) - HEADER_SIZE
            if final and available < header.payload_size:
                self.stats.truncated += 1
                self._sink.frame_refused(header.frame_id, f"frame {header.frame_id} truncated")
                del scan[:1]
                continue
            self._header = header
            self._header_bytes = bytes(scan[:HEADER_SIZE])
            payload = self._take_buffer(header.payload_size)
            take = min(available, header.payload_size)
            payload.data[:take] = memoryview(scan)[HEADER_SIZE : HEADER_SIZE + take]
            del scan[: HEADER_SIZE + take]
            self._payload = payload
            self._filled = take
            if take == header.payload_size:
                self._complete(final)

    def _complete(self, final: bool = False) -> None:
        self._verifying = True
        if self._transport is not None and not final:
            self._transport.pause_reading()  # type: ignore[attr-defined]
        self._task = asyncio.get_running_loop().create_task(self._verify(final))

    async def _verify(self, final: bool) -> None:
        header, payload = self._header, self._payload
        assert header is not None and payload is not None
        ok = await asyncio.to_thread(_crc_ok, payload, header.payload_crc)
        if ok:
            self.stats.frames += 1
            pixels = payload.view("<u2").reshape(header.height, header.width)
            self._sink.frame_received(header, pixels.astype(np.uint16, copy=False), time.time())
        else:
            self.stats.corrupt += 1
            self._sink.frame_refused(header.frame_id, f"frame {header.frame_id} failed its checksum")
            self._scan = await asyncio.to_thread(_rescan, self._header_bytes, payload, self._scan)
        self._recycle(payload)
        self._header = None
        self._payload = None
        self._verifying = False
        transport = self._transport
        if transport is not None and not final and not transport.is_closing():
            transport.resume_reading()  # type: ignore[attr-defined]
        self._parse(final)

    def _take_buffer(self, size: int) -> npt.NDArray[np.uint8]:
        """A buffer for the next payload whose pages are already in memory: a pooled one the consumer has
        let go of (only the pool still refers to it), else the spare prepared in a thread, else a new one."""
        pool = self._pool
        for i in range(len(pool)):
            if pool[i].size == size and sys.getrefcount(pool[i]) <= 2:  # the list's reference + the argument
                return pool.pop(i)
        spare = self._spare
        if spare is not None and spare.size == size:
            self._spare = None
            self._prepare_spare(size)  # for the frame after this one, should this one still be held then
            return spare
        self._prepare_spare(size)
        # not bytearray(n): no 19 MB zero-fill on the loop; block-aligned so the raw frame can be written
        # to disk from this very buffer (O_DIRECT)
        return aligned_empty(size)

    def _recycle(self, payload: npt.NDArray[np.uint8]) -> None:
        self._pool.append(payload)
        del self._pool[:-POOL_SIZE]

    def _prepare_spare(self, size: int) -> None:
        if self._spare_task is not None and not self._spare_task.done():
            return

        async def prepare() -> None:
            self._spare = await asyncio.to_thread(_prefaulted, size)

        self._spare_task = asyncio.get_running_loop().create_task(prepare())

    async def drained(self) -> None:
        """Wait until a frame being verified has been handed over (tests)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)


def _prefaulted(size: int) -> npt.NDArray[np.uint8]:
    buf = aligned_empty(size)
    ctypes.memset(buf.ctypes.data, 0, size)  # a foreign call: runs without the GIL
    return buf


def _crc_ok(payload: npt.NDArray[np.uint8], crc: int) -> bool:
    return zlib.crc32(payload.data) == crc  # zlib releases the GIL on large buffers


def _rescan(header_bytes: bytes, payload: npt.NDArray[np.uint8], pending: bytearray) -> bytearray:
    """The bytes to look at again after a refused payload: from the first magic after the refused
    header's own (a frame that followed a truncated one), then whatever arrived since."""
    data = bytearray(header_bytes[len(MAGIC) :]) + payload.data
    at = data.find(MAGIC)
    if at < 0:
        return data[-(len(MAGIC) - 1) :] + pending
    return data[at:] + pending
