"""Generator line framing: the checksum, round trips, and a decoder that never crashes and resynchronises
on whatever arrives (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dros.device.framing import ETX, MAX_BODY, STX, FrameDecoder, checksum, encode

FIELD = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters=","), max_size=8)
CMD = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2)
FRAME = st.tuples(CMD, st.lists(FIELD, max_size=5)).map(lambda t: (t[0], *t[1]))
NOISE = st.binary(max_size=40).map(lambda b: bytes(x for x in b if x != STX))  # anything but a frame start


def test_checksum_is_spellman_and_never_stx_or_etx() -> None:
    assert checksum(b"22,") == ord("p")  # the worked example: 0x70
    for total in range(0, 4096, 7):
        c = checksum(bytes([total % 256, total // 256]))
        assert 0x40 <= c <= 0x7F


def test_encode_layout() -> None:
    assert encode("KV", "3", "700") == b"\x02KV,3,700," + bytes([checksum(b"KV,3,700,")]) + b"\x03"


@given(st.lists(FRAME, max_size=8))
def test_round_trip_in_any_chunking(frames: list[tuple[str, ...]]) -> None:
    wire = b"".join(encode(*f) for f in frames)
    for size in (1, 3, 64):
        dec = FrameDecoder()
        out = []
        for i in range(0, len(wire), size):
            out.extend(dec.feed(wire[i : i + size]))
        assert out == frames


@settings(max_examples=300)
@given(st.lists(st.tuples(NOISE, st.sampled_from(["ok", "bad_sum", "truncated", "oversized", "ctrl"]), FRAME)))
def test_garbage_never_crashes_and_every_good_frame_after_it_is_decoded(
    parts: list[tuple[bytes, str, tuple[str, ...]]],
) -> None:
    dec = FrameDecoder()
    wire = b""
    expected: list[tuple[str, ...]] = []
    for noise, kind, fields in parts:
        good = encode(*fields)
        frame = good
        if kind == "bad_sum":
            frame = good[:-2] + bytes([((good[-2] + 1) & 0x3F) | 0x40]) + good[-1:]
        elif kind == "truncated":
            frame = good[: max(1, len(good) // 2)]  # the next STX starts over
        elif kind == "oversized":
            frame = bytes([STX]) + b"A" * (MAX_BODY + 50) + bytes([ETX])
        elif kind == "ctrl":
            body = b"KV,1,\x07,"
            frame = bytes([STX]) + body + bytes([checksum(body), ETX])
        # noise lands between frames (after a complete one), the broken frame, then a good one
        wire += noise + frame + good
        expected += [fields, fields] if kind == "ok" else [fields]
    assert dec.feed(wire) == expected


def test_counters_name_what_was_dropped() -> None:
    dec = FrameDecoder()
    good = encode("ST", "1")
    bad = good[:-2] + bytes([good[-2] ^ 0x01 | 0x40]) + good[-1:]
    wire = b"xx" + bad + good[:4] + good + bytes([STX]) + b"A" * (MAX_BODY + 2) + bytes([ETX]) + good
    assert dec.feed(wire) == [("ST", "1"), ("ST", "1")]
    s = dec.stats
    assert (s.garbage_bytes, s.bad_checksum, s.truncated, s.oversized, s.frames) == (2, 1, 1, 1, 2)
