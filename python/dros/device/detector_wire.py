"""The flat-panel detector's two wire formats (docs/detector-protocol.md), shared by the driver and the
simulator: the ASCII control frames and the binary header of the data channel.

Control channel (serial line, pty or TCP): the generator's framing (`dros.device.framing`: STX, ETX and the
Spellman checksum) — ``<STX>FIELD,FIELD,…,<CSUM><ETX>``, the checksum the two's complement of the byte sum
of everything between STX and CSUM, ``&0x7F|0x40``, so it is never STX (0x02) or ETX (0x03). Fields are ASCII; ``%``, ``,`` and every byte outside 0x20–0x7E are
percent-encoded (UTF-8 first), so a path or message can travel in one field.

Data channel (TCP): each frame is a 44-byte little-endian header followed by the pixels (uint16 LE, row
order). The header has its own CRC32, so a damaged header is never trusted for a size; the payload has a
CRC32 in the header.
"""

from __future__ import annotations

import enum
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

# the generator's framing rule, shared (docs/detector-protocol.md §2); re-exported for the simulator and tests
from dros.device.framing import ETX as ETX
from dros.device.framing import STX as STX
from dros.device.framing import checksum as checksum

#: A control frame longer than this (STX to ETX) is garbage: the parser drops it. Longer than the
#: generator's 200-byte bodies: detector events carry file paths and messages.
MAX_CONTROL_FRAME = 4096

# --- control frames -----------------------------------------------------------------------------------


def escape(text: str) -> str:
    out: list[str] = []
    for b in text.encode("utf-8"):
        if 0x20 <= b < 0x7F and b not in (0x25, 0x2C):  # '%' and ','
            out.append(chr(b))
        else:
            out.append(f"%{b:02X}")
    return "".join(out)


def unescape(field: str) -> str:
    if "%" not in field:
        return field
    raw = bytearray()
    i = 0
    data = field.encode("ascii", "replace")
    while i < len(data):
        if data[i] == 0x25 and i + 2 < len(data) and _is_hex(data[i + 1 : i + 3]):
            raw.append(int(data[i + 1 : i + 3], 16))
            i += 3
        else:
            raw.append(data[i])
            i += 1
    return raw.decode("utf-8", "replace")


def _is_hex(two: bytes) -> bool:
    return len(two) == 2 and all(c in b"0123456789abcdefABCDEF" for c in two)


def encode(*fields: str | int | float) -> bytes:
    """One control frame from its fields (the first is the command or reply name)."""
    body = "".join(escape(str(f)) + "," for f in fields).encode("ascii")
    return bytes([STX]) + body + bytes([checksum(body), ETX])


class ControlParser:
    """Incremental parser of the control stream. Bytes outside STX…ETX, frames with a wrong checksum and
    over-long frames are dropped silently (the sender's timeout is the implied NAK); counters say how many."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.bad_frames = 0
        self.garbage_bytes = 0

    def feed(self, data: bytes) -> Iterator[list[str]]:
        self._buf += data
        while True:
            start = self._buf.find(STX)
            if start < 0:
                self.garbage_bytes += len(self._buf)
                self._buf.clear()
                return
            if start:
                self.garbage_bytes += start
                del self._buf[:start]
            end = self._buf.find(ETX, 1)
            restart = self._buf.find(STX, 1, end if end >= 0 else len(self._buf))
            if restart > 0:  # a new frame began before this one ended: the first was cut off
                self.bad_frames += 1
                del self._buf[:restart]
                continue
            if end < 0:
                if len(self._buf) > MAX_CONTROL_FRAME:
                    self.bad_frames += 1
                    self._buf.clear()
                return
            frame = bytes(self._buf[1:end])
            del self._buf[: end + 1]
            fields = self._decode(frame)
            if fields is None:
                self.bad_frames += 1
                continue
            yield fields

    @staticmethod
    def _decode(frame: bytes) -> list[str] | None:
        if len(frame) < 2:
            return None
        body, csum = frame[:-1], frame[-1]
        if checksum(body) != csum or not body.endswith(b","):
            return None
        try:
            text = body[:-1].decode("ascii")
        except UnicodeDecodeError:
            return None
        return [unescape(f) for f in text.split(",")]


# --- vocabulary -----------------------------------------------------------------------------------------


class Cmd(enum.StrEnum):
    """Host → panel commands. Every reply starts with the command's name, then ``$`` (done) or
    ``!,code,text`` (refused)."""

    STATUS = "ST"  # → ST,$,key=value,…
    ARM = "ARM"  # ARM,view,thickness_mm,seed,sync → ARM,$
    DISARM = "DISARM"
    XRAY_ON = "XON"  # the X-ray window opened (sync handshake EXP_REQ/EXP_OK)
    XRAY_OFF = "XOFF"  # XOFF,kv10,ma100,ms100,mas1000,focus → XOFF,$,frame_id
    CALIBRATE = "CAL"  # CAL,offset|gain|defect
    RESET = "RESET"  # clear errors
    FAULT = "FAULT"  # simulator only: FAULT,name[,arg]


#: Panel → host unsolicited message: ``EV,name,key=value,…`` (the status keys of ST plus the event's own).
EVENT = "EV"
ACK = "$"
NAK = "!"


class Refusal(enum.IntEnum):
    """Codes of ``!,code,text`` replies."""

    UNKNOWN_COMMAND = 1
    BAD_ARGUMENT = 2
    WRONG_STATE = 3
    CALIBRATION_INVALID = 4
    IN_ERROR = 5


class Event(enum.StrEnum):
    STATE = "state"  # the state or the calibration validity changed
    FRAME_SENT = "frame"  # a frame went out on the data channel (frame=, crc=)
    READOUT_FAILED = "readout_failed"  # frame=, reason=, path=, message=
    EXPOSURE_TIMEOUT = "exp_timeout"  # armed too long without X-rays: back to STANDBY


class ReadoutFailure(enum.StrEnum):
    MISSING_FILE = "missing_file"
    BAD_FILE = "bad_file"


def missing_file_message(path: str) -> tuple[str, str]:
    """The seed's failure text when a frame file is missing (its TASK_Failure example), and Chinese."""
    return (
        f"open {path}: The system cannot find the file specified.",
        f"打开 {path} 失败：系统找不到指定的文件。",
    )


def parse_pairs(fields: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in fields:
        key, sep, value = f.partition("=")
        if sep:
            out[key] = value
    return out


def pairs(values: dict[str, str | int | float]) -> list[str]:
    return [f"{k}={v}" for k, v in values.items()]


# --- data channel ----------------------------------------------------------------------------------------

MAGIC = b"DRFR"
VERSION = 1
_HEADER = struct.Struct("<4s4B6IQI")
HEADER_SIZE = _HEADER.size  # 44
#: Largest side the imaging chain accepts; a header claiming more is refused.
MAX_SIDE = 16384
#: Default largest payload a receiver accepts (a 4320×4320 16-bit frame is 37 MB).
DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FrameHeader:
    frame_id: int
    width: int
    height: int
    bits_stored: int
    payload_size: int
    payload_crc: int
    sent_at_us: int  # the panel's wall clock when it started sending (µs since the epoch)
    flags: int = 0

    def pack(self) -> bytes:
        head = _HEADER.pack(
            MAGIC,
            VERSION,
            HEADER_SIZE,
            self.bits_stored,
            2,
            self.frame_id,
            self.width,
            self.height,
            self.flags,
            self.payload_size,
            self.payload_crc,
            self.sent_at_us,
            0,
        )
        return head[:-4] + struct.pack("<I", zlib.crc32(head[:-4]))


class HeaderError(ValueError):
    """`frame_id` is set when the header's own CRC held (a real header, refused for what it claims)."""

    def __init__(self, message: str, frame_id: int | None = None) -> None:
        super().__init__(message)
        self.frame_id = frame_id


def unpack_header(data: bytes | bytearray | memoryview, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> FrameHeader:
    """Parse and check a header (`data` holds at least HEADER_SIZE bytes); HeaderError says why not."""
    (magic, version, hlen, bits, bpp, frame_id, width, height, flags, size, crc, sent_at, hcrc) = _HEADER.unpack_from(
        data
    )
    if magic != MAGIC:
        raise HeaderError("bad magic")
    if zlib.crc32(bytes(data[: HEADER_SIZE - 4])) != hcrc:
        raise HeaderError("header checksum mismatch")
    if version != VERSION or hlen != HEADER_SIZE:
        raise HeaderError(f"unsupported header version {version}/{hlen}", frame_id)
    if bpp != 2 or not 1 <= bits <= 16:
        raise HeaderError(f"unsupported pixel format: {bpp} bytes, {bits} bits", frame_id)
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise HeaderError(f"frame size {width}x{height} outside 1..{MAX_SIDE}", frame_id)
    if size != width * height * 2:
        raise HeaderError(f"payload size {size} does not match {width}x{height}x2", frame_id)
    if size > max_frame_bytes:
        raise HeaderError(f"frame of {size} bytes exceeds the limit of {max_frame_bytes}", frame_id)
    return FrameHeader(frame_id, width, height, bits, size, crc, sent_at, flags)
