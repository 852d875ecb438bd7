"""Position pictograms for every icon path the catalog references, drawn as SVG from the catalog itself.

Each picture shows the body (human: frontal figure for laterals, profile facing right otherwise; animals in
profile, head right), the examined region highlighted, the central ray as an arrow in its direction of travel
(⊗ when it runs into the page), the detector on the exit side, the patient lying (table, work station 0) or
standing (wall stand, 1), and the view's names. `<view>.svg` is the 100 px list icon, `<view>.large.svg` the
coach picture with both names, station, SID and tube angle. Written at start into <data_dir>/Image/Position/.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from dros.catalog_data import Catalog, ProductCatalog

GENERATOR_VERSION = "3"

BODY = 'fill="#d9dee5" stroke="#5b6570" stroke-width="0.8"'
REGION_STYLE = 'fill="#e4572e" fill-opacity="0.75" stroke="#a83216" stroke-width="0.6"'
DETECTOR = 'fill="#2b6cb0"'
BEAM = "#f2a900"

# ---- human body frame: standing, 100 × 100, patient facing the viewer (frontal) or facing +x (profile) ----
HUMAN_FRONTAL = (
    f'<circle cx="50" cy="11" r="7" {BODY}/>'
    f'<rect x="47" y="17" width="6" height="5" {BODY}/>'
    f'<path d="M37 23 Q50 20 63 23 L62 58 Q50 61 38 58 Z" {BODY}/>'
    f'<path d="M37 24 L30 42 L27 62 L31 63 L34 43 L39 30 Z" {BODY}/>'
    f'<path d="M63 24 L70 42 L73 62 L69 63 L66 43 L61 30 Z" {BODY}/>'
    f'<path d="M39 58 L49 58 L48 96 L42 97 Z" {BODY}/>'
    f'<path d="M51 58 L61 58 L58 97 L52 96 Z" {BODY}/>'
)
HUMAN_PROFILE = (
    f'<circle cx="50" cy="11" r="7" {BODY}/>'
    f'<path d="M56 9 L60 12 L56 14 Z" {BODY}/>'
    f'<rect x="47" y="17" width="6" height="5" {BODY}/>'
    f'<path d="M43 23 Q52 21 58 26 Q60 40 56 58 L44 58 Q41 40 43 23 Z" {BODY}/>'
    f'<path d="M47 25 L53 25 L53 60 L48 61 Z" {BODY}/>'
    f'<path d="M44 58 L56 58 L54 95 L46 95 Z" {BODY}/>'
    f'<path d="M46 94 L60 94 L60 98 L46 98 Z" {BODY}/>'
)

# region centre (x, y) and radii on the frontal figure; `side` regions mirror for the patient's left (+x)
HUMAN_REGIONS: dict[str, tuple[float, float, float, float, bool]] = {
    "SKULL": (50, 10, 8, 8, False),
    "FACIAL BONES": (50, 12, 6, 5, False),
    "SINUS": (50, 11, 5, 4, False),
    "MANDIBLE": (50, 16, 6, 3, False),
    "CSPINE": (50, 20, 3, 4, False),
    "TSPINE": (50, 32, 3, 10, False),
    "LSPINE": (50, 48, 3, 7, False),
    "SACRUM": (50, 56, 4, 4, False),
    "CHEST": (50, 33, 12, 10, False),
    "RIBS": (50, 38, 13, 8, False),
    "ABDOMEN": (50, 47, 11, 9, False),
    "PELVIS": (50, 57, 12, 5, False),
    "HIP": (56, 58, 5, 4, True),
    "SHOULDER": (61, 25, 5, 4, True),
    "CLAVICLE": (56, 23, 7, 2, True),
    "SCAPULA": (58, 29, 5, 6, True),
    "HUMERUS": (67, 36, 4, 8, True),
    "ELBOW": (69, 43, 4, 3, True),
    "FOREARM": (71, 51, 3, 7, True),
    "WRIST": (72, 58, 3, 2, True),
    "HAND": (72, 62, 3, 3, True),
    "FEMUR": (56, 68, 4, 9, True),
    "KNEE": (55, 78, 4, 3, True),
    "PATELLA": (55, 77, 3, 2, True),
    "TIBIA": (55, 87, 3, 7, True),
    "ANKLE": (55, 94, 3, 2, True),
    "FOOT": (56, 97, 4, 2, True),
    "CALCANEUS": (54, 97, 2.5, 2, True),
    "WHOLE SPINE": (50, 38, 4, 20, False),
    "LONG LEG": (55, 77, 5, 20, True),
}

# ---- animals: profile, head right (+x), back up ----
QUADRUPED = {
    # body length, leg length, head size, tail, ears: proportions per species
    "Dog": dict(bx=18, bw=52, by=38, bh=22, leg=26, head=9, tail=12, ear=5),
    "Cat": dict(bx=20, bw=48, by=42, bh=18, leg=22, head=8, tail=18, ear=4),
    "Rabbit": dict(bx=22, bw=46, by=40, bh=24, leg=16, head=9, tail=4, ear=12),
    "Equine": dict(bx=16, bw=56, by=30, bh=24, leg=34, head=10, tail=14, ear=4),
}


def _quadruped(p: Mapping[str, float]) -> str:
    bx, bw, by, bh, leg, head, tail, ear = (p[k] for k in ("bx", "bw", "by", "bh", "leg", "head", "tail", "ear"))
    hx, hy = bx + bw + head * 0.8, by - head * 0.6
    parts = [
        f'<ellipse cx="{bx + bw / 2}" cy="{by + bh / 2}" rx="{bw / 2}" ry="{bh / 2}" {BODY}/>',
        f'<path d="M{bx + bw - 6} {by + 4} L{hx - head * 0.6} {hy} L{hx} {hy + head} L{bx + bw} {by + bh * 0.6} Z"'
        f" {BODY}/>",
        f'<ellipse cx="{hx}" cy="{hy}" rx="{head}" ry="{head * 0.7}" {BODY}/>',
        f'<path d="M{hx - 2} {hy - head * 0.5} L{hx - 4} {hy - head * 0.5 - ear} L{hx + 1} {hy - head * 0.6} Z"'
        f" {BODY}/>",
        f'<path d="M{bx + 2} {by + bh * 0.4} Q{bx - tail * 0.6} {by - tail * 0.2} {bx - tail} {by + bh * 0.2}"'
        ' fill="none" stroke="#5b6570" stroke-width="2.2"/>',
    ]
    for x in (bx + bw - 10, bx + bw - 4, bx + 6, bx + 12):
        parts.append(f'<rect x="{x - 2}" y="{by + bh * 0.7}" width="4.5" height="{leg}" rx="1.5" {BODY}/>')
    return "".join(parts)


def _quadruped_regions(p: Mapping[str, float]) -> dict[str, tuple[float, float, float, float]]:
    bx, bw, by, bh, leg, head = (p[k] for k in ("bx", "bw", "by", "bh", "leg", "head"))
    hx, hy = bx + bw + head * 0.8, by - head * 0.6
    fx, rx_ = bx + bw - 7, bx + 9  # fore and hind limb x
    top = by + bh * 0.7
    return {
        "THORAX": (bx + bw * 0.72, by + bh / 2, bw * 0.2, bh * 0.45),
        "ABDOMEN": (bx + bw * 0.4, by + bh / 2, bw * 0.18, bh * 0.45),
        "PELVIS": (bx + bw * 0.12, by + bh * 0.45, bw * 0.11, bh * 0.4),
        "CSPINE": (bx + bw + 1, by + 2, 5, 3),
        "TSPINE": (bx + bw * 0.7, by + 2, bw * 0.18, 2.5),
        "LSPINE": (bx + bw * 0.35, by + 2, bw * 0.14, 2.5),
        "SPINE": (bx + bw / 2, by + 2, bw * 0.45, 2.5),
        "SKULL": (hx, hy, head * 0.9, head * 0.7),
        "HEAD": (hx, hy, head * 0.9, head * 0.7),
        "DENTAL": (hx + head * 0.4, hy + head * 0.3, head * 0.5, head * 0.35),
        "NECK": (bx + bw + 2, by + 2, 6, 5),
        "FORELIMB": (fx, top + leg * 0.45, 3.5, leg * 0.5),
        "HINDLIMB": (rx_, top + leg * 0.45, 3.5, leg * 0.5),
        "TAIL": (bx - p["tail"] * 0.6, by + bh * 0.1, p["tail"] * 0.5, 3),
        "WHOLE BODY": (bx + bw / 2 + 4, by + bh / 2 - 2, bw / 2 + 8, bh / 2 + 6),
        "LIMB": (rx_, top + leg * 0.45, 3.5, leg * 0.5),
        "FOOT": (fx, top + leg - 2, 3.5, 3),
        "FETLOCK": (fx, top + leg * 0.78, 3.5, 3),
        "CARPUS": (fx, top + leg * 0.45, 3.5, 3),
        "TARSUS": (rx_, top + leg * 0.4, 3.5, 3),
        "STIFLE": (rx_ + 2, top + 2, 4.5, 4),
    }


BIRD = (
    f'<ellipse cx="48" cy="55" rx="20" ry="14" {BODY}/>'
    f'<circle cx="70" cy="38" r="8" {BODY}/>'
    f'<path d="M77 36 L86 39 L77 41 Z" {BODY}/>'
    f'<path d="M34 50 Q50 40 62 52 Q48 60 34 50 Z" {BODY}/>'
    f'<path d="M30 56 L12 62 L30 62 Z" {BODY}/>'
    '<path d="M45 68 L44 86 M53 68 L54 86 M40 86 L48 86 M50 86 L58 86" stroke="#5b6570" stroke-width="2"/>'
)
BIRD_REGIONS: dict[str, tuple[float, float, float, float]] = {
    "WHOLE BODY": (50, 56, 32, 26),
    "WING": (48, 50, 14, 6),
    "LEG": (49, 78, 6, 9),
    "SKULL": (71, 38, 9, 8),
}
TORTOISE = (
    f'<path d="M20 62 Q50 22 80 62 Z" {BODY}/>'
    f'<rect x="20" y="61" width="60" height="5" rx="2" {BODY}/>'
    f'<ellipse cx="86" cy="60" rx="7" ry="5" {BODY}/>'
    f'<rect x="27" y="64" width="6" height="10" rx="2" {BODY}/><rect x="67" y="64" width="6" height="10" rx="2" {BODY}/>'
    f'<path d="M20 62 L12 66 L20 65 Z" {BODY}/>'
)
LIZARD = (
    f'<ellipse cx="50" cy="55" rx="22" ry="7" {BODY}/>'
    f'<ellipse cx="78" cy="53" rx="8" ry="5" {BODY}/>'
    f'<path d="M29 55 Q15 52 4 60 Q16 57 29 59 Z" {BODY}/>'
    '<path d="M60 60 L64 70 M40 60 L36 70 M60 50 L64 42 M40 50 L36 42" stroke="#5b6570" stroke-width="2.2"/>'
)
REPTILE_REGIONS: dict[str, tuple[float, float, float, float]] = {
    "SHELL": (50, 52, 30, 14),
    "WHOLE BODY": (48, 55, 40, 10),
    "SKULL": (80, 55, 8, 6),
    "LIMB": (62, 64, 5, 6),
}

# beam travel direction (unit vector in the body frame) per view position; None = into the page (⊗)
HUMAN_BEAM = {"AP": (-1.0, 0.0), "PA": (1.0, 0.0), "OBL": (-0.71, -0.71), "Axial": (0.0, -1.0)}
VET_BEAM: dict[str, tuple[float, float] | None] = {
    "VD": (0.0, -1.0),
    "DV": (0.0, 1.0),
    "CrCd": (-1.0, 0.0),
    "CdCr": (1.0, 0.0),
    "DPa": (-1.0, 0.0),
    "DPl": (-1.0, 0.0),
    "RCd": (-1.0, 0.0),
    "OBL": (-0.71, 0.71),
    "Axial": (-0.5, 0.87),
    "LAT": None,
    "ML": None,
    "LM": None,
}


def _rotate(d: tuple[float, float], degrees: float) -> tuple[float, float]:
    a = math.radians(degrees)
    return (d[0] * math.cos(a) - d[1] * math.sin(a), d[0] * math.sin(a) + d[1] * math.cos(a))


def _arrow(cx: float, cy: float, d: tuple[float, float], rx: float, ry: float) -> str:
    """Central ray ending at the region, plus the detector across the exit side."""
    nx, ny = -d[1], d[0]
    reach = math.hypot(d[0] * rx, d[1] * ry) + 3  # the region's extent along the ray
    half = math.hypot(nx * rx, ny * ry) + 6  # and across it
    x2, y2 = cx - d[0] * reach, cy - d[1] * reach
    x1, y1 = x2 - d[0] * 22, y2 - d[1] * 22
    ex, ey = cx + d[0] * (reach + 4), cy + d[1] * (reach + 4)
    det = (
        f'<line x1="{ex + nx * half:.1f}" y1="{ey + ny * half:.1f}" x2="{ex - nx * half:.1f}" '
        f'y2="{ey - ny * half:.1f}" stroke="#2b6cb0" stroke-width="3"/>'
    )
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{BEAM}" stroke-width="2.2" '
        f'marker-end="url(#ray)"/>' + det
    )


def _into_page(cx: float, cy: float) -> str:
    return (
        f'<circle cx="{cx}" cy="{cy}" r="4" fill="none" stroke="{BEAM}" stroke-width="1.6"/>'
        f'<path d="M{cx - 2.8} {cy - 2.8} L{cx + 2.8} {cy + 2.8} M{cx + 2.8} {cy - 2.8} L{cx - 2.8} {cy + 2.8}" '
        f'stroke="{BEAM}" stroke-width="1.6"/>'
    )


def _ellipse(cx: float, cy: float, rx: float, ry: float) -> str:
    return f'<ellipse cx="{cx:.1f}" cy="{cy:.1f}" rx="{rx:.1f}" ry="{ry:.1f}" {REGION_STYLE}/>'


def _figure(view: dict[str, Any], part: str, angle: int) -> tuple[str, tuple[float, float] | None]:
    """The body frame drawing (figure, region, ray, detector) before the station transform, and the ray's
    direction in the body frame."""
    pos, lat, species = view["view_position"], view["image_laterality"], view["patient_type"]
    if species == "Human":
        cx, cy, rx, ry, sided = HUMAN_REGIONS[part]
        if sided and lat == "R":
            cx = 100 - cx
        if pos == "LAT":
            d = (-1.0, 0.0) if lat == "R" else (1.0, 0.0)
            return HUMAN_FRONTAL + _ellipse(cx, cy, rx, ry) + _arrow(cx, cy, d, rx, ry), d
        # profile: region on the body's midline depth, the arm and leg in front of the trunk
        px = 50 + (4 if part in ("FACIAL BONES", "SINUS", "MANDIBLE") else 0)
        d = HUMAN_BEAM[pos]
        tilt = angle if angle else (45 if pos == "Axial" else 0)
        # + tilt = cephalad: the ray leans toward the head (−y) as it travels
        if pos != "Axial":
            d = _rotate(d, tilt if d[0] > 0 else -tilt)
        assert d is not None  # every human position has a beam direction
        text = _ellipse(px, cy, min(rx, 8), ry) + _arrow(px, cy, d, min(rx, 8), ry)
        if pos == "OBL":
            text += (
                '<path d="M80 70 A9 9 0 1 1 71 61" fill="none" stroke="#5b6570" stroke-width="1.4" '
                'marker-end="url(#turn)"/>'
            )
        return HUMAN_PROFILE + text, d
    if species == "Bird":
        shape, regions = BIRD, BIRD_REGIONS
    elif species == "Reptile":
        shape = TORTOISE if part == "SHELL" else LIZARD
        regions = REPTILE_REGIONS
    else:
        q = QUADRUPED[species]
        shape, regions = _quadruped(q), _quadruped_regions(q)
    cx, cy, rx, ry = regions[part]
    beam = VET_BEAM[pos]
    out = shape + _ellipse(cx, cy, rx, ry)
    if beam is None:
        return out + _into_page(cx, cy), None
    if angle:
        beam = _rotate(beam, -angle)
    return out + _arrow(cx, cy, beam, rx, ry), beam


DEFS = (
    '<defs><marker id="ray" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="5" markerHeight="5" '
    f'orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 Z" fill="{BEAM}"/></marker>'
    '<marker id="turn" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="4" markerHeight="4" orient="auto">'
    '<path d="M0 0 L10 5 L0 10 Z" fill="#5b6570"/></marker></defs>'
)


def _station_group(body: str, view: dict[str, Any], d: tuple[float, float] | None) -> str:
    """A human on the table lies so that the ray comes from above: supine for AP (anterior up), prone for PA,
    on the left side for a left lateral; animals are drawn as positioned already."""
    if view["patient_type"] == "Human" and view["work_station_id"] == 0 and d is not None:
        turn = 90 if d[0] > 0 else -90
        return f'<g transform="rotate({turn} 50 50)">{body}</g>'
    return f"<g>{body}</g>"


def _part_key(view: dict[str, Any]) -> str:
    return str(view["body_part_id"].split("_", 1)[1])


def render(view: dict[str, Any], device: dict[str, Any], large: bool) -> bytes:
    part = _part_key(view)
    body, ray = _figure(view, part, int(device["tube_angle"]))
    vid = escape(view["view_id"])
    en, zh = escape(view["name_en"]), escape(view["name_zh"])
    station = "Table" if view["work_station_id"] == 0 else "Wall stand"
    side = {"L": " L", "R": " R", "B": " L+R"}.get(view["image_laterality"], "")
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 {130 if large else 118}" '
        f'width="{320 if large else 100}" height="{416 if large else 118}" role="img" aria-label="{en}">'
        f"<title>{en} / {zh} ({vid})</title>{DEFS}"
        f'<rect width="100" height="{130 if large else 118}" fill="#ffffff"/>'
        '<rect width="100" height="100" fill="#f7f9fb"/>'
    )
    marker = (
        (
            f'<text x="96" y="10" text-anchor="end" font-family="sans-serif" font-size="8" font-weight="bold" '
            f'fill="#a83216">{escape(side.strip())}</text>'
        )
        if side
        else ""
    )
    caption = (
        f'<text x="50" y="108" text-anchor="middle" font-family="sans-serif" font-size="9" '
        f'font-weight="bold">{escape(view["view_position"])}{escape(side)}</text>'
    )
    if large:
        angle = int(device["tube_angle"])
        tube = f", tube {abs(angle)}° {'cephalad' if angle > 0 else 'caudal'}" if angle else ""
        lines = [
            caption,
            f'<text x="50" y="116" text-anchor="middle" font-family="sans-serif" font-size="4.6">{en}</text>',
            f'<text x="50" y="122" text-anchor="middle" font-family="sans-serif" font-size="4.6">{zh}</text>',
            f'<text x="50" y="128" text-anchor="middle" font-family="sans-serif" font-size="3.6" fill="#5b6570">'
            f"{station}, SID {device['sid']} cm{escape(tube)}</text>",
        ]
    else:
        lines = [
            caption,
            f'<text x="50" y="115" text-anchor="middle" font-family="sans-serif" font-size="4.2" '
            f'textLength="{min(96, 2.1 * len(view["name_en"])):.0f}" lengthAdjust="spacingAndGlyphs">{en}</text>',
        ]
    return (head + _station_group(body, view, ray) + marker + "".join(lines) + "</svg>").encode()


def render_product(pc: ProductCatalog) -> dict[str, bytes]:
    """icon path ("/Image/Position/...") → SVG bytes, for every path the product's views reference."""
    devices = {(d["apr_id"], d["work_station_id"]): d for d in pc.tables["devices"]}
    out: dict[str, bytes] = {}
    for v in pc.tables["views"]:
        dev = devices[(v["apr_id"], v["work_station_id"])]
        out[v["view_icon_name"]] = render(v, dev, large=False)
        big = render(v, dev, large=True)
        out[v["view_big_icon_name"]] = big
        out[v["view_coach_name"]] = big
    return out


def render_all(catalog: Catalog) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for pc in catalog.products.values():
        out.update(render_product(pc))
    return out


def install(image_root: Path, catalog: Catalog) -> int:
    """Write the pictograms under image_root (the directory served as /Image); returns files written.
    A stamp keyed by catalog content and generator version makes repeated starts a no-op, as long as every
    referenced file is still there (a deleted one is drawn again)."""
    stamp = image_root / "Position" / f".generated-{GENERATOR_VERSION}-{catalog.content_hash[:16]}"
    if stamp.exists() and all(
        (image_root / p.removeprefix("/Image/")).is_file() for pc in catalog.products.values() for p in pc.icon_paths()
    ):
        return 0
    written = 0
    for path, data in render_all(catalog).items():
        target = image_root / path.removeprefix("/Image/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or hashlib.sha256(target.read_bytes()).digest() != hashlib.sha256(data).digest():
            tmp = target.with_suffix(target.suffix + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(target)
            written += 1
    for old in stamp.parent.glob(".generated-*"):
        old.unlink()
    stamp.write_text(catalog.version, encoding="utf-8")
    return written
