"""Ground truth of a phantom frame, rasterised here from the phantom's scene numbers alone.

The Rust phantom hands out its scene as plain numbers (``Phantom.scene``); this module draws the
field, direct-exposure, anatomy and marker masks from them with NumPy. It imports nothing of the
imaging chain (``dros`` is not imported at all), so the truth the accuracy tests compare against is
drawn by neither the detector's rasteriser nor the phantom's. Pixel centres sit on integer
coordinates (x = column, y = row); a pixel is in the field when its centre is inside the geometry.

A wide-physics frame may carry two or three rectangular fields (``scene["field"]["kind"] ==
"multiple"``, the fields in ``scene["field"]["fields"]``): its field is their union, and each further
field's patient is in ``scene["more_bodies"]``; the attenuation is the sum over the patients.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

# The phantom's definitions of its classes (log-attenuation units), as its documentation states them.
DIRECT_BELOW = 0.02
ANATOMY_FROM = 0.15

BoolMask = npt.NDArray[np.bool_]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Truth:
    field: BoolMask
    direct: BoolMask
    anatomy: BoolMask
    markers: BoolMask

    def anatomy_for_window(self) -> BoolMask:
        """Field minus direct exposure minus markers (the issue's "anatomy", skin line included)."""
        return self.field & ~self.direct & ~self.markers


def _grid(width: int, height: int) -> tuple[F64, F64]:
    return np.arange(width, dtype=np.float64)[None, :], np.arange(height, dtype=np.float64)[:, None]


def field_mask(field: dict[str, Any], width: int, height: int) -> BoolMask:
    """Rect (rotated), circle or open field, by the pixel-centre rule; the union of several fields."""
    x, y = _grid(width, height)
    kind = field["kind"]
    if kind == "multiple":
        union = np.zeros((height, width), dtype=bool)
        for f in field["fields"]:
            union |= field_mask(f, width, height)
        return union
    if kind == "none":
        return np.ones((height, width), dtype=bool)
    cx, cy = field["center"]
    if kind == "circle":
        r = float(field["radius"])
        return bool_(((x - cx) ** 2 + (y - cy) ** 2) <= r * r)
    hw, hh = field["half_size"]
    t = np.deg2rad(float(field["angle_deg"]))
    c, s = np.cos(t), np.sin(t)
    u = (x - cx) * c + (y - cy) * s
    v = -(x - cx) * s + (y - cy) * c
    return bool_((np.abs(u) <= hw) & (np.abs(v) <= hh))


def bool_(a: Any) -> BoolMask:
    return np.asarray(a, dtype=bool)


def _chord(e: list[float], x: F64, y: F64) -> F64:
    cx, cy, a, b, c, s, _mu = e
    dx, dy = x - cx, y - cy
    u = (dx * c + dy * s) / a
    v = (-dx * s + dy * c) / b
    q = u * u + v * v
    out: F64 = np.sqrt(np.clip(1.0 - q, 0.0, None))
    return out


def _smooth_weights(coord: F64, extent: int, n: int) -> F64:
    """(len, n) interpolation matrix: smoothstep-weighted linear between grid nodes."""
    g = coord / extent * (n - 1)
    i = np.minimum(np.floor(g).astype(np.int64), n - 2)
    f = g - i
    f = f * f * (3.0 - 2.0 * f)
    w = np.zeros((coord.size, n))
    rows = np.arange(coord.size)
    w[rows, i] = 1.0 - f
    w[rows, i + 1] += f
    return w


def _bbox(e: list[float], width: int, height: int) -> tuple[int, int, int, int]:
    """Pixel box [x0, x1) × [y0, y1) holding the ellipse, clipped to the frame."""
    cx, cy, a, b, c, s, _mu = e
    ex, ey = np.hypot(a * c, b * s), np.hypot(a * s, b * c)
    x0, x1 = max(0, int(np.floor(cx - ex))), min(width, int(np.ceil(cx + ex)) + 1)
    y0, y1 = max(0, int(np.floor(cy - ey))), min(height, int(np.ceil(cy + ey)) + 1)
    return x0, max(x0, x1), y0, max(y0, y1)


def attenuation(scene: dict[str, Any], width: int, height: int) -> F64:
    """The patients' attenuation (log units) at every pixel centre (0 outside the bodies)."""
    out = _patient(scene, scene["body"], scene["inner"], scene.get("implants", []), width, height)
    for p in scene.get("more_bodies", []):
        out = out + _patient(scene, p["body"], p["inner"], p["implants"], width, height)
    return out


def _patient(
    scene: dict[str, Any],
    body: list[float],
    inner: list[list[float]],
    implants: list[list[float]],
    width: int,
    height: int,
) -> F64:
    """One patient's attenuation: body, inner ellipses, the shared texture, metal."""
    out: F64 = np.zeros((height, width))
    x0, x1, y0, y1 = _bbox(body, width, height)
    if x0 == x1 or y0 == y1:
        return out
    x = np.arange(x0, x1, dtype=np.float64)[None, :]
    y = np.arange(y0, y1, dtype=np.float64)[:, None]
    cb = _chord(body, x, y)
    a = body[6] * cb
    for e in inner:
        a = a + e[6] * _chord(e, x, y)
    n = int(scene["tex_n"])
    tex = np.asarray(scene["tex"], dtype=np.float64).reshape(n, n)  # [row j, column i]
    texture = _smooth_weights(y.ravel(), height, n) @ tex @ _smooth_weights(x.ravel(), width, n).T
    a = a + scene["tex_amp"] * texture * np.minimum(cb * 4.0, 1.0)
    a = np.clip(a, 0.0, scene["max_attenuation"])
    # metal implants (wide physics): added after the clamp, up to their own limit
    metal = np.zeros_like(a)
    for cx, cy, half_len, half_wid, c, s, mu in implants:
        dx, dy = x - cx, y - cy
        metal = metal + mu * ((np.abs(dx * c + dy * s) <= half_len) & (np.abs(-dx * s + dy * c) <= half_wid))
    a = np.where(metal > 0.0, np.minimum(a + metal, scene.get("implant_max_attenuation", np.inf)), a)
    out[y0:y1, x0:x1] = np.where(cb > 0.0, a, 0.0)
    return out


def marker_mask(scene: dict[str, Any], width: int, height: int) -> BoolMask:
    x, y = _grid(width, height)
    m = np.zeros((height, width), dtype=bool)
    for cx, cy, hw, hh, _t in scene["markers"]:
        m |= (np.abs(x - cx) <= hw) & (np.abs(y - cy) <= hh)
    return m


def truth(scene: dict[str, Any], width: int, height: int) -> Truth:
    f = field_mask(scene["field"], width, height)
    a = attenuation(scene, width, height)
    mk = marker_mask(scene, width, height) & f
    return Truth(
        field=f,
        direct=f & (a < DIRECT_BELOW) & ~mk,
        anatomy=f & (a >= ANATOMY_FROM) & ~mk,
        markers=mk,
    )
