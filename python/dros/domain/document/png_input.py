"""Client PNGs (portrait: base64 in JSON; post_proc: a multipart file) → checked pixel arrays.

Limits, decided because the contract states none:
  * at most `MAX_PNG_BYTES` (32 MiB) of PNG — a 4288×3520 16-bit DX exported losslessly fits;
  * at most `MAX_SIDE` (8192) pixels per side and `MAX_PIXELS` (40 M) pixels — checked from the
    header before any pixel is decoded, so a small "decompression bomb" is refused cheaply;
  * a `data:image/png;base64,` prefix (what a browser canvas's toDataURL gives) is accepted.
Every refusal is an `invalid_param` naming the request field.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from dros.errors import DrosError, invalid_param

MAX_PNG_BYTES = 32 * 1024 * 1024
MAX_SIDE = 8192
MAX_PIXELS = 40_000_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_DATA_URL = re.compile(r"^data:image/png;base64,", re.IGNORECASE)
_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


@dataclass(frozen=True)
class DecodedPng:
    pixels: npt.NDArray[np.uint8] | npt.NDArray[np.uint16]  # (rows, cols) or (rows, cols, 3)
    bit_depth: int  # 8 or 16
    colour: bool  # True: RGB samples, False: one grey sample


def decode_base64(field: str, text: str) -> bytes:
    body = _DATA_URL.sub("", text.strip(), count=1)
    body = "".join(body.split())  # line-wrapped base64 (MIME style) is still base64
    if not body:
        raise invalid_param(field, "is empty; send a PNG image as base64", "为空，请以 base64 发送 PNG 图片")
    if len(body) > (MAX_PNG_BYTES * 4) // 3 + 4:
        raise invalid_param(
            field,
            f"is larger than {MAX_PNG_BYTES // (1024 * 1024)} MiB of PNG",
            f"超过 {MAX_PNG_BYTES // (1024 * 1024)} MiB 的 PNG 上限",
        )
    if len(body) % 4 or not _BASE64.match(body):
        raise invalid_param(field, "is not valid base64", "不是有效的 base64")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise invalid_param(field, f"is not valid base64 ({exc})", f"不是有效的 base64（{exc}）") from exc


def decode_png(field: str, data: bytes, *, allow_16bit: bool) -> DecodedPng:
    """Grey, grey+alpha, RGB, RGBA and palette PNGs. Alpha must be fully opaque: DICOM images have no
    transparency, and a translucent pixel has no single right grey or colour value."""
    if len(data) > MAX_PNG_BYTES:
        raise invalid_param(
            field,
            f"is larger than {MAX_PNG_BYTES // (1024 * 1024)} MiB of PNG",
            f"超过 {MAX_PNG_BYTES // (1024 * 1024)} MiB 的 PNG 上限",
        )
    if not data.startswith(PNG_SIGNATURE) or len(data) < 33 or data[12:16] != b"IHDR":
        raise invalid_param(field, "is not a PNG image (no PNG signature)", "不是 PNG 图片（缺少 PNG 文件头）")
    # IHDR's bit depth and colour type: Pillow would quietly cut 16-bit colour to 8 bits
    depth, colour_type = data[24], data[25]
    if depth == 16 and not allow_16bit:
        raise invalid_param(field, "has 16 bits per sample; send an 8-bit PNG", "每个采样 16 位，请发送 8 位 PNG")
    if depth == 16 and colour_type != 0:
        raise invalid_param(
            field,
            "is a 16-bit colour or grey+alpha PNG; 16 bits are accepted for plain greyscale only",
            "为 16 位彩色或带透明通道的 PNG；16 位仅支持纯灰度",
        )
    # the size from IHDR itself: Pillow refuses a huge one in `open` already, with its own English text
    cols, rows = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if cols > MAX_SIDE or rows > MAX_SIDE or cols * rows > MAX_PIXELS:
        raise invalid_param(
            field,
            f"is {cols}×{rows} pixels; at most {MAX_SIDE} per side and {MAX_PIXELS} in all",
            f"尺寸为 {cols}×{rows}；每边最多 {MAX_SIDE}，总像素最多 {MAX_PIXELS}",
        )
    try:
        img: Image.Image = Image.open(io.BytesIO(data), formats=["PNG"])
        img.load()
    except DrosError:
        raise
    except Exception as exc:  # whatever the decoder trips on, the client's bytes are at fault
        raise invalid_param(field, f"is not a readable PNG image ({exc})", f"不是可读取的 PNG 图片（{exc}）") from exc
    mode = img.mode
    sixteen = depth == 16
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        mode = img.mode
    if mode in ("LA", "RGBA", "PA"):
        alpha = np.asarray(img.getchannel("A"))
        if int(alpha.min()) < 255:
            raise invalid_param(field, "has transparent pixels; send an opaque PNG", "含透明像素，请发送不透明的 PNG")
        img = img.convert("L" if mode == "LA" else "RGB")
        mode = img.mode
    if mode == "1":
        img = img.convert("L")
        mode = "L"
    if mode == "L":
        return DecodedPng(np.asarray(img, dtype=np.uint8), 8, False)
    if mode == "RGB":
        return DecodedPng(np.asarray(img, dtype=np.uint8), 8, True)
    if sixteen:
        arr = np.asarray(img)
        if arr.min() < 0 or arr.max() > 65535:
            raise invalid_param(field, "has sample values outside 16 bits", "采样值超出 16 位范围")
        return DecodedPng(arr.astype(np.uint16), 16, False)
    raise invalid_param(field, f"has an unsupported PNG colour type ({mode})", f"PNG 颜色类型不受支持（{mode}）")
