"""The DROS imaging chain written with NumPy, SciPy and OpenCV: the benchmark baseline.

Same stages, same algorithms and parameters as rust_core (prepare, collimator_rect,
collimator_circle, foreground, enhance, apply, auto_wwwl, exposure_index), written the way that
stack does best: whole-array vectorised NumPy, OpenCV for resizing, Sobel, box filters and LUTs,
`np.bincount` for the Hough and voting accumulators, SciPy's `map_coordinates` for the profile
sampling. Its accuracy is measured next to the Rust chain's in the same benchmark run.
Simplifications are only where the Rust code's extra care does not change results on the
phantoms (no dead-line repair beyond the same "half the line is 0/65535" rule; markers as in Rust).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy import ndimage

# as many threads as rayon's pool (one per core) for every OpenCV call; NumPy's own loops run on one
cv2.setNumThreads(os.cpu_count() or 1)

STEP_MIN = 0.4
STEP_REACH = 2.0
SUPPORT_MIN = 0.5
LOWRES_TARGET = 400
OUTPUT_MAX = 4095
GAINS = [1.0, 1.2, 1.4, 1.5, 1.4, 1.2, 1.0, 1.0]  # "default" preset
POWER, REF_AMP, CORING, NOISE_LEVELS, LATITUDE, SPAN = 0.7, 0.15, 1.5, 2, 0.6, 2600.0
METAL_BELOW_MEDIAN, HOLE_WEIGHT = 2.0, 1e-3
BINOMIAL = np.array([1, 3, 3, 1], np.float32) / 8
LOG_LUT = np.log(np.maximum(np.arange(65536, dtype=np.float64), 1)).astype(np.float32)


@dataclass
class Result:
    image: np.ndarray
    field_mask: np.ndarray
    kind: str
    window_center: float
    window_width: float
    exposure_index: float
    timings: dict[str, float] = field(default_factory=dict)


def _repair_lines(raw: np.ndarray) -> np.ndarray:
    bad = (raw == 0) | (raw == 65535)
    rows = bad.sum(1) * 2 >= raw.shape[1]
    cols = bad.sum(0) * 2 >= raw.shape[0]
    if (not rows.any() and not cols.any()) or rows.sum() * 10 > raw.shape[0] or cols.sum() * 10 > raw.shape[1]:
        return raw
    out = raw.copy()
    for axis, dead in ((0, rows), (1, cols)):
        good = np.flatnonzero(~dead)
        for i in np.flatnonzero(dead):
            j = np.searchsorted(good, i)
            a = good[max(j - 1, 0)]
            b = good[min(j, len(good) - 1)]
            if axis == 0:
                out[i] = ((out[a].astype(np.uint32) + out[b]) // 2).astype(np.uint16)
            else:
                out[:, i] = ((out[:, a].astype(np.uint32) + out[:, b]) // 2).astype(np.uint16)
    return out


def _lowres_factor(w: int, h: int) -> int:
    f = max(-(-max(w, h) // LOWRES_TARGET), 2)
    return f + f % 2


def _bilinear(img: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return ndimage.map_coordinates(img, [y, x], order=1, mode="nearest")


def _to_full(p: np.ndarray, f: int) -> np.ndarray:
    return p * f + (f - 1) / 2


def _edges(gx: np.ndarray, gy: np.ndarray, min_mag: float) -> tuple[np.ndarray, ...]:
    m = np.hypot(gx, gy)
    ys, xs = np.nonzero(m >= min_mag)
    s = np.minimum(1.0, 1.0 / np.maximum(m[ys, xs], 1e-12))
    return xs.astype(np.float64), ys.astype(np.float64), gx[ys, xs] * s, gy[ys, xs] * s


def _profiles(xs, ys, ex, ey, w, h, deg):
    s, c = np.sin(np.radians(deg)), np.cos(np.radians(deg))
    out = []
    for nx, ny in ((c, s), (-s, c)):
        corners = np.array([0, (w - 1) * nx, (h - 1) * ny, (w - 1) * nx + (h - 1) * ny])
        lo = corners.min() - 1
        nb = int(np.ceil(corners.max() + 1 - lo)) + 2
        idx = np.rint(xs * nx + ys * ny - lo).astype(np.int64)
        acc = np.bincount(idx, weights=ex * nx + ey * ny, minlength=nb)
        sm = acc.copy()
        sm[1:-1] = 0.25 * acc[:-2] + 0.5 * acc[1:-1] + 0.25 * acc[2:]
        out.append((sm, lo, nx, ny))
    return out


def _peak(p: np.ndarray, sign: float):
    v = sign * p
    i = int(np.argmax(v))
    if v[i] <= 0:
        return None
    d = 0.0
    if 0 < i < len(p) - 1:
        a, b, c = v[i - 1], v[i], v[i + 1]
        den = a - 2 * b + c
        d = float(np.clip(0.5 * (a - c) / den, -0.5, 0.5)) if abs(den) > 1e-12 else 0.0
    return i + d, float(v[i])


def _step(low: np.ndarray, px, py, nx, ny):
    h, w = low.shape
    ix, iy, ox, oy = px + STEP_REACH * nx, py + STEP_REACH * ny, px - STEP_REACH * nx, py - STEP_REACH * ny
    ok = (ix >= 0) & (iy >= 0) & (ix <= w - 1) & (iy <= h - 1) & (ox >= 0) & (oy >= 0) & (ox <= w - 1) & (oy <= h - 1)
    st = _bilinear(low, ix[ok], iy[ok]) - _bilinear(low, ox[ok], oy[ok])
    return st


def _side_support(low, side, others):
    h, w = low.shape
    nx, ny, rho = side
    diag = np.hypot(w, h)
    t = np.arange(-diag, diag + 1.0)
    px, py = rho * nx - t * ny, rho * ny + t * nx
    ok = (px >= 0) & (py >= 0) & (px <= w - 1) & (py <= h - 1)
    for ox, oy, orho in others:
        ok &= px * ox + py * oy - orho >= 3.0
    st = _step(low, px[ok], py[ok], nx, ny)
    return int((st >= STEP_MIN).sum()), len(st)


def rect_coarse(low, gx, gy):
    h, w = low.shape
    xs, ys, ex, ey = _edges(gx, gy, 0.05)
    if len(xs) == 0:
        return [], 0.0, 0.0

    def score(d):
        return sum(
            (_peak(p, 1.0) or (0, 0))[1] + (_peak(p, -1.0) or (0, 0))[1] for p, *_ in _profiles(xs, ys, ex, ey, w, h, d)
        )

    # The Rust search: whole degrees in [-45, 45), then tenths within one degree of the best.
    angles = np.arange(-45, 45, dtype=float)
    a0 = angles[int(np.argmax([score(d) for d in angles]))]
    fine = a0 + 0.1 * np.arange(-10, 11)
    angle = fine[int(np.argmax([score(d) for d in fine]))]
    cand = []
    for p, lo, nx, ny in _profiles(xs, ys, ex, ey, w, h, angle):
        pair = []
        r, f = _peak(p, 1.0), _peak(p, -1.0)
        if r:
            pair.append(((nx, ny, r[0] + lo), r[1], r[0]))
        if f:
            pair.append(((-nx, -ny, -(f[0] + lo)), f[1], f[0]))
        if len(pair) == 2 and pair[1][2] - pair[0][2] < 8:
            pair = [max(pair, key=lambda q: q[1])]
        cand += [(q[0], q[1]) for q in pair]
    strongest = max((c[1] for c in cand), default=0.0)
    sides = [c[0] for c in cand if c[1] >= 8 and c[1] >= 0.2 * strongest]
    stats = []
    while sides:
        stats = [_side_support(low, s, [o for o in sides if o is not s]) for s in sides]
        ratios = [g / t if t >= 12 else 0.0 for g, t in stats]
        worst = int(np.argmin(ratios))
        if ratios[worst] >= SUPPORT_MIN:
            break
        sides.pop(worst)
    g = sum(s[0] for s in stats) if sides else 0
    t = sum(s[1] for s in stats) if sides else 0
    return sides, float(angle), (g / t if t else 0.0)


def _edge_offsets(raw, px, py, nx, ny, reach):
    """Vectorised `edge_offset` for many sample points; NaN where no edge."""
    h, w = raw.shape
    s = np.arange(-reach, reach + 1, dtype=np.float64)
    k = np.arange(-3, 4, dtype=np.float64)
    tx, ty = -ny, nx
    X = np.rint(px[:, None, None] + s[None, :, None] * nx[:, None, None] + k[None, None, :] * tx[:, None, None])
    Y = np.rint(py[:, None, None] + s[None, :, None] * ny[:, None, None] + k[None, None, :] * ty[:, None, None])
    inside = ((X >= 0) & (Y >= 0) & (X < w) & (Y < h)).all(axis=(1, 2))
    X = np.clip(X, 0, w - 1).astype(np.int64)
    Y = np.clip(Y, 0, h - 1).astype(np.int64)
    v = raw[Y, X].astype(np.float64).sum(axis=2)
    f = v.copy()
    f[:, 1:-1] = np.median(np.stack([v[:, :-2], v[:, 1:-1], v[:, 2:]]), axis=0)
    d = np.zeros_like(f)
    d[:, 1:-1] = f[:, 2:] - f[:, :-2]
    m = d.shape[1]
    dd = d[:, 2 : m - 2]
    bi = np.argmax(dd, axis=1) + 2
    best = d[np.arange(len(d)), bi]
    med = np.median(np.abs(d[:, 1:-1]), axis=1)
    ok = inside & (best > 0) & (best >= 4 * med)
    a, b, c = d[np.arange(len(d)), bi - 1], best, d[np.arange(len(d)), bi + 1]
    den = a - 2 * b + c
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = np.where(np.abs(den) > 1e-12, np.clip(0.5 * (a - c) / den, -0.5, 0.5), 0.0)
    return np.where(ok, bi - reach + delta, np.nan)


def _fit_line(pts, hint):
    cur = pts
    line = None
    for _ in range(3):
        if len(cur) < 6:
            return line
        mx, my = cur.mean(0)
        dx, dy = cur[:, 0] - mx, cur[:, 1] - my
        th = 0.5 * np.arctan2(2 * (dx * dy).sum(), (dx * dx).sum() - (dy * dy).sum())
        nx, ny = -np.sin(th), np.cos(th)
        if nx * hint[0] + ny * hint[1] < 0:
            nx, ny = -nx, -ny
        line = (nx, ny, nx * mx + ny * my)
        res = np.abs(cur[:, 0] * nx + cur[:, 1] * ny - line[2])
        tol = max(3 * 1.4826 * np.median(res), 1.0)
        keep = res <= tol
        if keep.all():
            break
        cur = cur[keep]
    return line


def rect_refine(raw, sides_low, f):
    h, w = raw.shape
    c0 = (f - 1) / 2
    full = [(nx, ny, f * rho + (nx + ny) * c0) for nx, ny, rho in sides_low]
    reach = int(2 * f) + 6
    out = []
    for i, (nx, ny, rho) in enumerate(full):
        others = [o for j, o in enumerate(full) if j != i]
        diag = np.hypot(w, h)
        t = np.arange(-diag, diag + 1, 2.0)
        px, py = rho * nx - t * ny, rho * ny + t * nx
        ok = (px >= 0) & (py >= 0) & (px <= w - 1) & (py <= h - 1)
        for ox, oy, orho in others:
            ok &= px * ox + py * oy - orho >= 0
        if not ok.any():
            out.append((nx, ny, rho))
            continue
        t0, t1 = t[ok].min(), t[ok].max()
        margin = 0.04 * (t1 - t0) + 2 * f
        ts = t0 + margin + (t1 - t0 - 2 * margin) * (np.arange(64) + 0.5) / 64
        px, py = rho * nx - ts * ny, rho * ny + ts * nx
        s = _edge_offsets(raw, px, py, np.full(64, nx), np.full(64, ny), reach)
        good = ~np.isnan(s)
        pts = np.stack([px[good] + s[good] * nx, py[good] + s[good] * ny], 1)
        line = _fit_line(pts, (nx, ny))
        if line is not None and line[0] * nx + line[1] * ny > np.cos(np.radians(3)):
            tm = 0.5 * (ts[0] + ts[-1])
            pm = (rho * nx - tm * ny, rho * ny + tm * nx)
            if abs(pm[0] * line[0] + pm[1] * line[1] - line[2]) <= 2.5 * f:
                out.append(line)
                continue
        out.append((nx, ny, rho))
    return out


def circle_coarse(low, gx, gy):
    h, w = low.shape
    xs, ys, ex, ey = _edges(gx, gy, 0.1)
    if len(xs) < 16:
        return None
    m = np.hypot(ex, ey)
    ux, uy = ex / m, ey / m
    wgt = np.rint(np.minimum(m, 1.0) * 16)
    rmin, rmax = 0.08 * min(w, h), 0.8 * max(w, h)
    acc = np.zeros(w * h)
    radii = np.arange(rmin, rmax + 1e-9, 1.0)
    # every ray at a block of radii at once: one bincount per block of ≈ 4 M votes, not one per radius
    for block in np.array_split(radii, 1 + len(radii) * len(xs) // 4_000_000):
        cx = np.rint(xs[None, :] + block[:, None] * ux[None, :])
        cy = np.rint(ys[None, :] + block[:, None] * uy[None, :])
        ok = (cx >= 0) & (cy >= 0) & (cx < w) & (cy < h)
        votes = np.broadcast_to(wgt, cx.shape)[ok]
        acc += np.bincount((cy[ok] * w + cx[ok]).astype(np.int64), weights=votes, minlength=w * h)
        # Rust stops a ray at the border; rays never re-enter a convex image, so this matches.
    acc = cv2.boxFilter(acc.reshape(h, w), -1, (5, 5), normalize=False, borderType=cv2.BORDER_CONSTANT)
    acc[:2], acc[-2:], acc[:, :2], acc[:, -2:] = 0, 0, 0, 0
    cy, cx = np.unravel_index(int(np.argmax(acc)), acc.shape)
    dx, dy = cx - xs, cy - ys
    d = np.hypot(dx, dy)
    with np.errstate(divide="ignore", invalid="ignore"):
        cosang = (dx * ex + dy * ey) / (d * m)
    sel = (d >= rmin) & (d <= rmax) & (cosang >= 0.9)
    hist = np.bincount(
        np.rint(d[sel]).astype(np.int64), weights=np.minimum(m[sel], 1), minlength=int(np.ceil(rmax)) + 3
    )
    sm = np.zeros_like(hist)
    sm[1:-1] = hist[:-2] + 2 * hist[1:-1] + hist[2:]
    r = float(np.argmax(sm))
    a = np.arange(720) * 2 * np.pi / 720
    px, py = cx + r * np.cos(a), cy + r * np.sin(a)
    ok = (px >= 0) & (py >= 0) & (px <= w - 1) & (py <= h - 1)
    st = _step(low, px[ok], py[ok], -np.cos(a[ok]), -np.sin(a[ok]))
    if len(st) < 120:
        return None
    return float(cx), float(cy), r, float((st >= STEP_MIN).mean())


def _fit_circle(pts):
    cur, out = pts, None
    for _ in range(3):
        if len(cur) < 8:
            return out
        A = np.c_[2 * cur, np.ones(len(cur))]
        b = (cur**2).sum(1)
        (cx, cy, c), *_ = np.linalg.lstsq(A, b, rcond=None)
        r = np.sqrt(c + cx * cx + cy * cy)
        out = (cx, cy, r)
        res = np.abs(np.hypot(cur[:, 0] - cx, cur[:, 1] - cy) - r)
        keep = res <= max(3 * 1.4826 * np.median(res), 1.0)
        if keep.all():
            break
        cur = cur[keep]
    return out


def circle_refine(raw, c, f):
    cx, cy = _to_full(c[0], f), _to_full(c[1], f)
    r = c[2] * f
    a = np.arange(180) * 2 * np.pi / 180
    ex, ey = np.cos(a), np.sin(a)
    px, py = cx + r * ex, cy + r * ey
    s = _edge_offsets(raw, px, py, -ex, -ey, int(2 * f) + 6)
    g = ~np.isnan(s)
    fit = _fit_circle(np.stack([px[g] - s[g] * ex[g], py[g] - s[g] * ey[g]], 1))
    if fit and np.hypot(fit[0] - cx, fit[1] - cy) <= 3 * f and abs(fit[2] - r) <= 3 * f:
        return fit
    return cx, cy, r


SUBPIXEL_BITS = 8  # OpenCV's fixed-point drawing: coordinates in 1/256 px


def _fixed(points: np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(points, np.float64) * (1 << SUBPIXEL_BITS)).astype(np.int32)


def _clip(poly: list[tuple[float, float]], nx: float, ny: float, rho: float) -> list[tuple[float, float]]:
    """Sutherland-Hodgman: the part of a convex polygon with x·nx + y·ny ≥ rho."""
    out: list[tuple[float, float]] = []
    for i, p in enumerate(poly):
        q = poly[(i + 1) % len(poly)]
        dp, dq = p[0] * nx + p[1] * ny - rho, q[0] * nx + q[1] * ny - rho
        if dp >= 0:
            out.append(p)
        if (dp >= 0) != (dq >= 0):
            t = dp / (dp - dq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def field_mask(shape, kind, geom):
    """The field drawn by OpenCV (a filled circle or convex polygon), not tested pixel by pixel."""
    h, w = shape
    if kind == "none":
        return np.ones(shape, bool)
    m = np.zeros(shape, np.uint8)
    if kind == "circle":
        cx, cy, r = geom
        cv2.circle(m, tuple(_fixed((cx, cy))), int(_fixed(r)), 1, -1, cv2.LINE_8, SUBPIXEL_BITS)
        return m.view(bool)
    poly = [(-0.5, -0.5), (w - 0.5, -0.5), (w - 0.5, h - 0.5), (-0.5, h - 0.5)]
    for nx, ny, rho in geom:
        poly = _clip(poly, nx, ny, rho)
        if len(poly) < 3:
            return m.view(bool)
    cv2.fillConvexPoly(m, _fixed(poly), 1, cv2.LINE_8, SUBPIXEL_BITS)
    return m.view(bool)


def foreground(low, gx, gy, g1, fmask, f, mk):
    """Direct exposure at half resolution (rust_core/src/foreground.rs, same steps and constants)."""
    h, w = fmask.shape
    lh, lw = low.shape
    fpad = np.zeros((lh * f, lw * f), bool)
    fpad[: min(h, lh * f), : min(w, lw * f)] = fmask[: lh * f, : lw * f]
    blocks = fpad.reshape(lh, f, lw, f)
    blk_all, blk_any = blocks.all(axis=(1, 3)), blocks.any(axis=(1, 3))
    k3, k5 = np.ones((3, 3), np.uint8), np.ones((5, 5), np.uint8)
    valid = cv2.erode(blk_all.view(np.uint8), k3, borderType=cv2.BORDER_CONSTANT, borderValue=1).astype(bool) & ~mk
    pairs = valid[:, 1:] & valid[:, :-1]
    if pairs.sum() < 64:
        return None
    dif = np.abs(np.diff(low, axis=1))
    sig = 1.4826 * np.median(dif[pairs]) / np.sqrt(2)
    grad = np.hypot(gx, gy)
    flat = valid & (grad <= 0.012 + 2 * sig)
    if flat.sum() < 16:
        return None
    fv = np.sort(low[flat])
    # 99.5th percentile, or higher so that at least 16 flat pixels lie at or above it (small patch).
    t = fv[max(round((fv.size - 1) * 0.995), fv.size - 16)]
    strong = flat & (low >= t - 0.15)
    sp = strong[:, 1:] & strong[:, :-1]
    if sp.sum() >= 32:
        sig = min(sig, 1.4826 * np.median(dif[sp]) / np.sqrt(2))
    med = cv2.medianBlur(np.where(valid, low, low[valid].min()).astype(np.float32), 3)
    m = cv2.dilate(np.where(valid, med, -np.inf).astype(np.float32), np.ones((7, 7), np.uint8))
    # Flat pixels may lie below the box maximum by the slope across the box (foreground.rs).
    allow = np.where(flat, 3 * np.sqrt(2) * grad, 0.0)
    cand = valid & (low >= m - max(0.04, 4 * sig) - allow)
    # Within the soft penumbra's depth (24 px) of the edge counts as reaching it (foreground.rs).
    reach = max(2, int(np.ceil(24.0 / f)) + 1)
    kt = np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)
    touch = cv2.dilate((~blk_all).view(np.uint8), kt, borderType=cv2.BORDER_CONSTANT, borderValue=1).astype(bool)
    touch[:2], touch[-2:], touch[:, :2], touch[:, -2:] = True, True, True, True

    def attempt(cand):
        lab, n = ndimage.label(cand)
        keep = np.zeros(n + 1, bool)
        keep[np.unique(lab[strong])] = True
        ok = np.zeros(n + 1, bool)
        ok[np.unique(lab[touch & cand])] = True
        keep &= ok
        keep[0] = False
        region = keep[lab]
        if region.sum() < 4:
            return None
        rv = low[region]
        level = np.median(rv)
        spread = np.quantile(rv, 0.95) - np.quantile(rv, 0.05)
        rest = low[valid & ~region]
        if rest.size < 0.02 * valid.sum():
            return None
        # Most of the field, spreading more than direct exposure drifts: a patient filling the
        # field (foreground::LARGE_REGION_SHARE).
        if rv.size >= 0.8 * valid.sum() and spread > 0.35:
            return None
        sep25 = level - np.quantile(rest, 0.25)
        rf = region.astype(np.float32)
        num = cv2.boxFilter((low * rf).astype(np.float32), -1, (7, 7), normalize=False, borderType=cv2.BORDER_CONSTANT)
        den = cv2.boxFilter(rf, -1, (7, 7), normalize=False, borderType=cv2.BORDER_CONSTANT)
        b = np.where(den > 0.5, num / np.maximum(den, 1e-9), np.inf).astype(np.float32)
        d1 = cv2.dilate(region.view(np.uint8), k3).astype(bool)
        d2 = cv2.dilate(region.view(np.uint8), k5).astype(bool)
        ring = d2 & ~d1 & valid
        drop = np.median((b - low)[ring]) if ring.any() else 0.0
        if not (spread <= 0.14 or (drop >= 0.12 and sep25 >= 0.6) or sep25 >= 0.8):
            return None
        return b, d2

    # Second attempt with candidates within 0.35 of the plateau (foreground::LEAK_DEPTH).
    res = attempt(cand) or attempt(cand & (low >= t - 0.35))
    if res is None:
        return None
    b, d2 = res
    zone = d2 & blk_any
    hh, hw = g1.shape
    q = max(f // 2, 1)
    iy, ix = np.minimum(np.arange(hh) // q, lh - 1), np.minimum(np.arange(hw) // q, lw - 1)
    dh = max(0.035, 4 * sig * q)
    half = zone[iy][:, ix] & (g1 >= b[iy][:, ix] - dh)
    f2 = np.zeros((hh * 2, hw * 2), bool)
    f2[:h, :w] = fmask
    f2[h:, :] = f2[h - 1 : h, :] if hh * 2 > h else f2[h:, :]
    f2[:, w:] = f2[:, w - 1 : w] if hw * 2 > w else f2[:, w:]
    hb = f2.reshape(hh, 2, hw, 2)
    in_all, in_any = hb.all(axis=(1, 3)), hb.any(axis=(1, 3))
    core = cv2.erode(in_all.view(np.uint8), k3, borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)
    half &= in_all
    near = in_any & ~core & zone[iy][:, ix]
    half |= near & cv2.dilate((half & core).view(np.uint8), k5).astype(bool)
    if not in_all.all():
        penumbra_band(half, g1, in_all, dh)
    return half


def penumbra_band(half, g1, in_all, dh, depth=24.0):
    """Soft penumbra inside the shutter edge (foreground::penumbra_band): each pixel within `depth`
    full-resolution pixels of the edge is compared with the pixel `depth` deep along the normal;
    where that one is direct exposure, the median difference per 1-px distance bin is the profile
    and pixels within `dh` of it are direct exposure. The edge and its normal come from the
    rasterised field (nearest outside block) rather than the geometry."""
    dist, (oy, ox) = ndimage.distance_transform_edt(in_all, return_indices=True)
    sd = 2.0 * dist - 1.0
    by, bx = np.nonzero((sd >= 0) & (sd < depth))
    ny, nx = (by - oy[by, bx]).astype(float), (bx - ox[by, bx]).astype(float)
    step = (depth - sd[by, bx]) / 2.0 / np.hypot(ny, nx)
    qy, qx = np.floor(by + 0.5 + ny * step).astype(int), np.floor(bx + 0.5 + nx * step).astype(int)
    ok = (qy >= 0) & (qx >= 0) & (qy < half.shape[0]) & (qx < half.shape[1])
    by, bx, qy, qx = by[ok], bx[ok], qy[ok], qx[ok]
    ok = half[qy, qx]
    by, bx, qy, qx = by[ok], bx[ok], qy[ok], qx[ok]
    d = g1[by, bx] - g1[qy, qx]
    k = sd[by, bx].astype(int)
    for b in range(int(depth)):
        sel = k == b
        if sel.sum() >= 32:
            prof = np.median(d[sel])
            half[by[sel], bx[sel]] |= d[sel] >= prof - dh


def anatomy_half(g1: np.ndarray, fmask: np.ndarray, direct: np.ndarray | None) -> np.ndarray | None:
    """Level-1 pixels the pyramid may see, as enhance::fill::anatomy_mask: in the field (both
    full-resolution columns of the row through the pixel's centre), not direct exposure, not
    metal (more than 2 log units below the anatomy's median), each grown by 2. None: all are."""
    hh = g1.shape[0]
    h, w = fmask.shape
    rows = fmask[np.minimum(2 * np.arange(hh) + 1, h - 1)]
    if w % 2:
        rows = np.pad(rows, ((0, 0), (0, 1)))
    inside = rows[:, 0::2] & rows[:, 1::2]
    tissue = inside & ~direct if direct is not None else inside
    sample = g1[::4, ::4][tissue[::4, ::4]]
    if sample.size < 64:
        return None
    excluded = ~tissue | (g1 < float(np.median(sample)) - METAL_BELOW_MEDIAN)
    anatomy = ~cv2.dilate(excluded.view(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    n = int(np.count_nonzero(anatomy))
    return None if n == anatomy.size or n < 0.01 * anatomy.size else anatomy


def fill_levels(g1: np.ndarray, anatomy: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Push-pull as enhance::fill::fill: levels 2.. holding anatomy's own mean where they hold any
    (the fill elsewhere), each level's anatomy share (at least 1e-3), and the fill of level 2."""

    def half(a):
        return cv2.resize(a, ((a.shape[1] + 1) // 2, (a.shape[0] + 1) // 2), interpolation=cv2.INTER_AREA)

    a = anatomy.astype(np.float32)
    s, wt = [half(g1 * a)], [half(a)]
    while min(s[-1].shape) > 4:
        s.append(half(s[-1]))
        wt.append(half(wt[-1]))
    overall = float(s[-1].sum() / wt[-1].sum()) if wt[-1].sum() > 0 else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(wt[-1] > 0, s[-1] / wt[-1], overall)
        means = [np.where(wt[-1] > 0, s[-1] / wt[-1], f)]
        for k in range(len(s) - 2, -1, -1):
            f = s[k] + (1 - wt[k]) * cv2.resize(f, (s[k].shape[1], s[k].shape[0]), interpolation=cv2.INTER_LINEAR)
            means.insert(0, np.where(wt[k] > 0, s[k] / wt[k], f).astype(np.float32))
    return means, [np.maximum(x, HOLE_WEIGHT) for x in wt], f.astype(np.float32)


def enhance(
    lg: np.ndarray, g1: np.ndarray, fmask: np.ndarray, anat: np.ndarray, direct: np.ndarray | None
) -> np.ndarray:
    _h, _w = lg.shape
    depth = 0
    while min(-(-g1.shape[0] // 2**depth), -(-g1.shape[1] // 2**depth)) > 24 and depth < 6:
        depth += 1
    anatomy = anatomy_half(g1, fmask, direct)
    if anatomy is None:
        gs = [g1]
        for _ in range(depth):
            gs.append(
                cv2.resize(
                    gs[-1], ((gs[-1].shape[1] + 1) // 2, (gs[-1].shape[0] + 1) // 2), interpolation=cv2.INTER_AREA
                )
            )
        weights = None
    else:
        means, wts, fill2 = fill_levels(g1, anatomy)
        f1 = np.where(anatomy, g1, cv2.resize(fill2, (g1.shape[1], g1.shape[0]), interpolation=cv2.INTER_LINEAR))
        gs, weights = [f1, *means[:depth]], wts[:depth]

    def up(a, shape):
        return cv2.resize(a, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)

    x = np.linspace(0, 4.0, 16384, dtype=np.float32)

    def curve(gain, sigma):
        boost = np.minimum(((x + 1e-6) / REF_AMP) ** (POWER - 1), 4.0)
        core = x * x / (x * x + (CORING * sigma) ** 2) if sigma else 1.0
        return (gain * x * boost * core).astype(np.float32)

    def apply_curve(d, table):
        i = np.minimum((np.abs(d) * (16383 / 4.0)).astype(np.int32), 16383)
        return np.copysign(table[i], d)

    fm = [
        cv2.resize(fmask.view(np.uint8), (g.shape[1], g.shape[0]), interpolation=cv2.INTER_NEAREST).astype(bool)
        for g in gs
    ]
    if anatomy is not None:
        fm[0] = fm[0] & anatomy  # level 1's noise is measured on anatomy
    d0 = lg - up(g1, lg.shape)
    sig0 = 1.4826 * float(np.median(np.abs(d0[::8, ::2][fmask[::8, ::2]]))) if fmask.any() else 0.0
    r = gs[-1].copy()
    mean = float(r[fm[-1]].mean()) if fm[-1].any() else float(r.mean())
    r = mean + (r - mean) * LATITUDE
    for k in range(len(gs) - 2, -1, -1):
        lvl = k + 1
        if weights is None:
            d = gs[k] - up(gs[k + 1], gs[k].shape)
        else:
            # normalised expansion: anatomy's values wherever there are any (see rust_core)
            uw = up(weights[k], gs[k].shape)
            d = gs[k] - up(weights[k] * gs[k + 1], gs[k].shape) / uw
            r = up(weights[k] * r, gs[k].shape) / uw
        sig = 1.4826 * float(np.median(np.abs(d[fm[k]]))) if lvl < NOISE_LEVELS and fm[k].any() else 0.0
        enhanced = apply_curve(d, curve(GAINS[lvl], sig))
        if weights is None:
            r = enhanced + up(r, gs[k].shape)
        else:
            trust = np.minimum(uw, 1.0) ** 2
            r = r + trust * enhanced + (1 - trust) * LATITUDE * d
    if anatomy is not None:
        r = r + (g1 - gs[0]) * LATITUDE  # what the fill replaced, at the latitude
    a1 = cv2.resize(anat.view(np.uint8), (r.shape[1], r.shape[0]), interpolation=cv2.INTER_NEAREST).astype(bool)
    if a1.sum() >= 16:
        p1, p99 = np.percentile(r[a1], [1, 99])
        m, scale = 0.5 * (p1 + p99), (SPAN / (p99 - p1) if p99 - p1 > 1e-4 else 0.0)
    else:
        m, scale = 0.0, 0.0
    fine = apply_curve(d0, curve(GAINS[0], sig0))
    if anatomy is not None:
        seen = np.repeat(np.repeat(anatomy, 2, 0), 2, 1)[:_h, :_w]
        fine = np.where(seen, fine, LATITUDE * d0)
    v = up(r, lg.shape) + fine
    return np.clip(2048.5 + (m - v) * scale, 0, OUTPUT_MAX + 0.49).astype(np.uint16)


def _rank_value(h: np.ndarray, cdf: np.ndarray, q: float) -> int:
    """Nearest-rank quantile of a histogram, as auto_wwwl::quantile."""
    n = int(cdf[-1])
    return int(np.searchsorted(cdf, min(max(int(np.ceil(q * n)), 1), n), side="left"))


def _top_cluster(h: np.ndarray) -> int | None:
    """auto_wwwl::top_cluster: the value from which a small bright cluster above a gap starts."""
    cdf = np.cumsum(h)
    n = int(cdf[-1])
    lo, med, hi = (_rank_value(h, cdf, q) for q in (0.001, 0.5, 0.999))
    rng = max(hi - lo, 1)
    gap_len = max(rng // 50, 8)
    bulk = n / rng
    # mean of h[i-2 : i+3] (clipped to the histogram), as the Rust `sm`
    c0 = np.concatenate(([0], cdf))
    idx = np.arange(len(h))
    a, b = np.maximum(idx - 2, 0), np.minimum(idx + 3, len(h))
    sm = (c0[b] - c0[a]) / (b - a)
    nz = np.flatnonzero(h)
    if nz.size == 0:
        return None
    top = int(nz[-1])
    run, seen, gap_top = 0, False, top
    for i in range(top, med - 1, -1):
        if sm[i] < 0.01 * bulk:
            if not seen:
                continue
            if run == 0:
                gap_top = i
            run += 1
            if run >= gap_len:
                above = int(h[gap_top:].sum())
                return gap_top if 0 < above <= 0.12 * n else None  # auto_wwwl::MARKER_MASS
        else:
            seen, run = True, 0
    return None


def _drop_marker_sized(h: np.ndarray, img: np.ndarray, anat: np.ndarray, frm: int) -> None:
    """auto_wwwl::drop_marker_sized: of the top cluster, only marker-sized pieces (8 px blocks found on
    every second row, 8-connected, less than 0.04·1.4 of the shorter side + 2 blocks across) leave `h`."""
    height, width = img.shape
    b = 8
    ev = anat[::2] & (img[::2] >= frm)
    bh, bw = -(-height // b), -(-width // b)
    pad = np.zeros((bh * (b // 2), bw * b), dtype=bool)
    pad[: ev.shape[0], :width] = ev
    blocks = pad.reshape(bh, b // 2, bw, b).any(axis=(1, 3))
    labels, _ = ndimage.label(blocks, structure=np.ones((3, 3), dtype=bool))
    max_side = int(np.ceil(0.04 * 1.4 * min(width, height) / b)) + 2
    for k, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None or sl[0].stop - sl[0].start - 1 >= max_side or sl[1].stop - sl[1].start - 1 >= max_side:
            continue
        # only the piece's own blocks, within its bounding box
        own = np.repeat(np.repeat(labels[sl] == k, b, axis=0), b, axis=1)
        ys, xs = slice(sl[0].start * b, min(sl[0].stop * b, height)), slice(sl[1].start * b, min(sl[1].stop * b, width))
        sub = anat[ys, xs] & (img[ys, xs] >= frm) & own[: ys.stop - ys.start, : xs.stop - xs.start]
        h -= np.bincount(img[ys, xs][sub], minlength=len(h))[: len(h)]


def window(img: np.ndarray, anat: np.ndarray) -> tuple[float, float]:
    vals = img[anat]
    if vals.size == 0:
        return 2048.0, 4096.0
    # 12-bit values: the percentiles from a histogram (equal to np.percentile's "inverted_cdf")
    h = np.bincount(vals, minlength=OUTPUT_MAX + 1).astype(np.int64)
    frm = _top_cluster(h)
    if frm is not None:
        _drop_marker_sized(h, img, anat, frm)
    cdf = np.cumsum(h)
    if cdf[-1] == 0:
        return 2048.0, 4096.0
    lo, hi = (float(np.searchsorted(cdf, q * cdf[-1], side="left")) for q in (0.02, 0.98))
    if hi <= lo:
        return 2048.0, 4096.0
    m = np.ceil(0.04 * (hi - lo))  # headroom, as auto_wwwl::WINDOW_MARGIN
    lo, hi = max(lo - m, 0.0), min(hi + m, float(OUTPUT_MAX))
    return 0.5 * (lo + hi) + 0.5, hi - lo + 1.0


def process(raw: np.ndarray, target_ei: float = 250.0) -> Result:
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    raw = _repair_lines(np.ascontiguousarray(raw))
    h, w = raw.shape
    lg = cv2.LUT(raw, LOG_LUT) if False else LOG_LUT[raw]  # cv2.LUT only handles 8-bit indices
    # level 1 as rust_core's frame::half_log: binomial [1 3 3 1]/8 on each axis, every second pixel
    g1 = np.ascontiguousarray(
        cv2.sepFilter2D(lg, -1, BINOMIAL, BINOMIAL, anchor=(1, 1), borderType=cv2.BORDER_REPLICATE)[::2, ::2]
    )
    f = _lowres_factor(w, h)
    low = cv2.resize(
        g1, (-(-g1.shape[1] // (f // 2)), -(-g1.shape[0] // (f // 2))), interpolation=cv2.INTER_AREA
    ).astype(np.float64)
    gx = cv2.Sobel(low, cv2.CV_64F, 1, 0, ksize=3, borderType=cv2.BORDER_REPLICATE) / 8
    gy = cv2.Sobel(low, cv2.CV_64F, 0, 1, ksize=3, borderType=cv2.BORDER_REPLICATE) / 8
    for g in (gx, gy):
        g[0], g[-1], g[:, 0], g[:, -1] = 0, 0, 0, 0
    t["prepare"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    sides, _angle, rsup = rect_coarse(low, gx, gy)
    t["collimator_rect"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    circ = circle_coarse(low, gx, gy)
    t["collimator_circle"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if circ and circ[3] >= 0.6 and (not sides or circ[3] > rsup):
        kind, geom = "circle", circle_refine(raw, circ, f)
        key = "collimator_circle"
    elif sides:
        kind, geom = "rect", rect_refine(raw, sides, f)
        key = "collimator_rect"
    else:
        kind, geom, key = "none", None, "collimator_rect"
    fmask = field_mask(raw.shape, kind, geom)
    t[key] += time.perf_counter() - t0

    t0 = time.perf_counter()
    _ly, _lx = np.mgrid[0 : low.shape[0], 0 : low.shape[1]]
    fm_low = field_mask(
        low.shape,
        kind,
        None
        if kind == "none"
        else (
            (geom[0] / f - (f - 1) / (2 * f), geom[1] / f - (f - 1) / (2 * f), geom[2] / f - 1.0)
            if kind == "circle"
            else [(nx, ny, (rho - (nx + ny) * (f - 1) / 2) / f + 1.0) for nx, ny, rho in geom]
        ),
    )
    # Lead markers: more than 0.6 below the in-field local mean (radius 12 reduced pixels).
    fl = fm_low.astype(np.float64)
    s = cv2.boxFilter(low * fl, -1, (25, 25), normalize=False, borderType=cv2.BORDER_CONSTANT)
    n = cv2.boxFilter(fl, -1, (25, 25), normalize=False, borderType=cv2.BORDER_CONSTANT)
    with np.errstate(divide="ignore", invalid="ignore"):
        mk = fm_low & (n > 0) & (low < s / n - 0.6)
    # Components: at least 1 % of the shorter side squared, at most 4 % × 1.4 on a side unless
    # lead-dark (> 1.2 below the mean) and at most twice that (longer: metal), as foreground::markers.
    nl, lab, st, _ = cv2.connectedComponentsWithStats(mk.view(np.uint8), connectivity=8)
    if nl > 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            drop = np.where(n > 0, s / n - low, 0.0)
        dark = np.zeros(nl)
        np.maximum.at(dark, lab[mk], drop[mk])
        side = int(np.ceil(0.04 * 1.4 * min(w, h) / f)) + 2
        keep = (st[:, cv2.CC_STAT_AREA] >= int(np.ceil((0.01 * min(w, h) / f) ** 2))) & (
            ((st[:, cv2.CC_STAT_WIDTH] <= side) & (st[:, cv2.CC_STAT_HEIGHT] <= side))
            | ((dark >= 1.2) & (st[:, cv2.CC_STAT_WIDTH] <= 2 * side) & (st[:, cv2.CC_STAT_HEIGHT] <= 2 * side))
        )
        keep[0] = False
        mk = keep[lab]
    core = mk
    mk = cv2.dilate(mk.view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    half = foreground(low, gx, gy, g1, fmask, f, mk)
    fg = fmask & np.repeat(np.repeat(half, 2, 0), 2, 1)[:h, :w] if half is not None else np.zeros(raw.shape, bool)
    # Anatomy keeps the tissue around a marker: per half-resolution pixel, marker only when deeper
    # than half the marker's depth below the local background (grey closing as wide as the
    # largest marker, as foreground::Markers).
    deep = cv2.erode(
        fm_low.view(np.uint8), np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0
    ).astype(bool)
    rt = max(int(np.ceil(0.5 * 0.04 * min(w, h) / f)) + 1, 2)
    k = np.ones((2 * rt + 1, 2 * rt + 1), np.uint8)
    dil = cv2.dilate(
        np.where(deep, low, -np.inf).astype(np.float32), k, borderType=cv2.BORDER_CONSTANT, borderValue=-np.inf
    )
    clo = cv2.erode(
        np.where(deep, dil, np.inf).astype(np.float32), k, borderType=cv2.BORDER_CONSTANT, borderValue=np.inf
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        bg = np.where(deep & np.isfinite(clo), clo, np.where(n > 0, s / n, np.inf))
    depth = cv2.dilate(np.where(core, bg - low, 0).astype(np.float32), np.ones((3, 3), np.uint8))
    q = max(f // 2, 1)
    hh, hw = g1.shape

    def up(a):
        return np.repeat(np.repeat(a, q, 0), q, 1)[:hh, :hw]

    mk_half = up(mk) & ~(g1 >= up(bg - 0.5 * depth))
    mk_full = np.repeat(np.repeat(mk_half, 2, 0), 2, 1)[:h, :w]
    anat = fmask & ~fg & ~mk_full
    t["foreground"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    img = enhance(lg, g1, fmask, anat, half)
    t["enhance"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    img[~fmask] = 0
    t["apply"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    wc, ww = window(img, anat)
    t["auto_wwwl"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    vals = raw[anat]
    ei = 100.0 * float(np.median(vals)) / 1000.0 if vals.size else 0.0
    t["exposure_index"] = time.perf_counter() - t0
    return Result(img, fmask, kind, wc, ww, ei, t)
