"""Generator line framing: ``<STX>FIELD,FIELD,…,<CSUM><ETX>`` (docs/generator-protocol.md §2).

The checksum is the Spellman one: two's complement of the byte sum of everything between STX and the
checksum, low 8 bits, ``& 0x7F | 0x40`` — always 0x40–0x7F, so it can never be taken for STX/ETX.
A frame with a bad checksum, a non-printable byte, or more than `MAX_BODY` bytes is dropped without an
answer (a timeout is the implied NAK); the decoder resynchronises on the next STX.
"""

from __future__ import annotations

from dataclasses import dataclass

STX = 0x02
ETX = 0x03
#: Longest body (between STX and the checksum) either side sends; longer frames are discarded whole.
MAX_BODY = 200


def checksum(body: bytes) -> int:
    return ((-sum(body)) & 0xFF) & 0x7F | 0x40


def encode(*fields: str) -> bytes:
    """One frame from its fields (each printable ASCII without commas)."""
    for f in fields:
        if "," in f or not f.isascii() or not f.isprintable():
            raise ValueError(f"field {f!r} must be printable ASCII without commas")
    body = ("".join(f + "," for f in fields)).encode("ascii")
    if len(body) > MAX_BODY:
        raise ValueError(f"frame body of {len(body)} bytes exceeds {MAX_BODY}")
    return bytes((STX,)) + body + bytes((checksum(body), ETX))


@dataclass(slots=True)
class DecoderStats:
    frames: int = 0
    bad_checksum: int = 0
    malformed: int = 0  # non-printable byte, missing trailing comma, empty
    oversized: int = 0
    truncated: int = 0  # a new STX before the ETX of the previous frame
    garbage_bytes: int = 0  # bytes outside any frame


class FrameDecoder:
    """Incremental decoder: `feed(bytes)` returns the complete valid frames as field tuples."""

    __slots__ = ("_buf", "_in_frame", "_skipping", "stats")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._in_frame = False
        self._skipping = False  # inside an oversized frame: drop until ETX or STX
        self.stats = DecoderStats()

    def reset(self) -> None:
        self._buf.clear()
        self._in_frame = False
        self._skipping = False

    def feed(self, data: bytes) -> list[tuple[str, ...]]:
        out: list[tuple[str, ...]] = []
        stats = self.stats
        for byte in data:
            if byte == STX:
                if self._in_frame and not self._skipping:
                    stats.truncated += 1
                self._buf.clear()
                self._in_frame = True
                self._skipping = False
            elif not self._in_frame:
                stats.garbage_bytes += 1
            elif byte == ETX:
                if not self._skipping:
                    frame = self._finish()
                    if frame is not None:
                        out.append(frame)
                self._in_frame = False
                self._skipping = False
                self._buf.clear()
            elif self._skipping:
                continue
            elif len(self._buf) > MAX_BODY:  # body + checksum byte
                stats.oversized += 1
                self._skipping = True
                self._buf.clear()
            else:
                self._buf.append(byte)
        return out

    def _finish(self) -> tuple[str, ...] | None:
        buf = self._buf
        stats = self.stats
        if len(buf) < 3:
            stats.malformed += 1
            return None
        body, csum = bytes(buf[:-1]), buf[-1]
        if checksum(body) != csum:
            stats.bad_checksum += 1
            return None
        if body[-1:] != b"," or any(b < 0x20 or b > 0x7E for b in body):
            stats.malformed += 1
            return None
        stats.frames += 1
        return tuple(body[:-1].decode("ascii").split(","))
