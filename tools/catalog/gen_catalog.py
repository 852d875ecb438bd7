"""Write the pre-installed protocol catalog as CSV files under python/dros/catalog_data/.

    .venv/bin/python tools/catalog/gen_catalog.py [--out DIR]

The CSV files are the shipped data (reviewed in diffs, loaded by dros.catalog_data at start). This script
expands the compact chart in human.py / vet.py into them: one row per view, per procedure link, per APR
exposure (work station × patient size) and per device setting. tests/catalog/test_catalog_data.py checks
that a run reproduces the committed files byte for byte, so edit the chart here and re-run.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import human
import vet

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "python" / "dros" / "catalog_data"

CATALOG_VERSION = "2025.11.0"
SIZES = ("Large", "Medium", "Paediatric", "Small")  # the reference's order in APR replies
R10 = (1.0, 1.25, 1.6, 2.0, 2.5, 3.2, 4.0, 5.0, 6.3, 8.0)
KV_MIN, KV_MAX = 40, 150


def r10_index(x: float) -> int:
    return round(10 * math.log10(x))


def r10_value(i: int) -> float:
    return R10[i % 10] * 10 ** (i // 10)


def num(x: float) -> str:
    """Shortest decimal text: 80.0 → '80', 3.2 → '3.2', 1.008 → '1.008'."""
    return f"{round(x, 3):g}"


MA_STATIONS = (50, 80, 100, 125, 160, 200, 250, 320, 400, 500)  # the generator's mA stations
MS_MIN = 4.0  # shortest time the catalog asks of a generator, ms
MA_MAX = {0: 200, 1: 500}  # small focus ≤ 200 mA, large focus ≤ 500 mA


def decompose(mas_index: int, focus: int) -> tuple[float, float, float]:
    """mA and ms for the nominal R10 mAs: the highest mA station the focus allows with ms ≥ 4, so the
    exposure stays short; ms to 0.01 ms. mAs stays nominal; mA·ms/1000 matches it within 0.1 %."""
    mas = r10_value(mas_index)
    stations = [m for m in MA_STATIONS if m <= MA_MAX[focus]]
    ma = next((m for m in reversed(stations) if mas * 1000 / m >= MS_MIN), stations[0])
    ms = round(mas * 1000 / ma, 2)
    return ma, ms, mas


def clamp_kv(kv: float) -> int:
    return int(min(KV_MAX, max(KV_MIN, round(kv))))


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["true" if v is True else "false" if v is False else v for v in r])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buf.getvalue(), encoding="utf-8")


def label_position(lat: str) -> str:
    # the side marker goes on the patient's side of the displayed image
    return "RIGHT TOP" if lat == "L" else "LEFT TOP"


def human_orientation(v: human.ViewDef) -> tuple[str, str]:
    """DICOM Patient Orientation (row direction, column direction) as the image is displayed."""
    region = {k: r for k, _, _, r, _ in human.BODY_PARTS}[v.part]
    fingers_up = v.part in ("HAND", "WRIST", "FOREARM", "ELBOW") or (v.part == "FOOT" and v.pos != "LAT")
    col = "H" if fingers_up else "F"
    if v.pos == "LAT":
        row = "A" if v.lat == "R" else "P"
    elif v.pos == "Axial" and region in ("SKULL", "Facial bones"):
        row, col = "L", "A"
    else:
        row = "L"
    return row, col


def vet_orientation(pos: str) -> tuple[str, str]:
    """Quadruped orientation terms (DICOM PS3.3 C.7.6.1.1.1): head left on laterals, head up on VD/DV."""
    if pos in ("LAT", "OBL"):
        return "CD", "V"
    if pos in ("VD", "DV"):
        return "LE", "CD"
    if pos == "RCd":
        return "LE", "D"
    return "L", "DI"  # limb views: proximal at the top


class Product:
    """Accumulates the rows of one product's files."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.patient_types: list[list] = []
        self.body_parts: list[list] = []
        self.views: list[list] = []
        self.aprs: list[list] = []
        self.exposures: list[list] = []
        self.devices: list[list] = []
        self.procedures: list[list] = []
        self.links: list[list] = []

    def write(self, out: Path) -> None:
        d = out / self.name.lower()
        write_csv(
            d / "patient_types.csv",
            ["id", "patient_type_id", "name_en", "name_zh", "description_en", "description_zh", "sort", "is_enabled"],
            self.patient_types,
        )
        write_csv(
            d / "body_parts.csv",
            ["id", "body_part_id", "patient_type", "name_zh", "name_en", "category", "sort", "is_enabled"],
            self.body_parts,
        )
        write_csv(
            d / "views.csv",
            [
                "id",
                "view_id",
                "name_zh",
                "name_en",
                "view_position",
                "application",
                "anatomic_region",
                "patient_type",
                "body_part_id",
                "view_icon_name",
                "view_big_icon_name",
                "view_coach_name",
                "modality",
                "work_station_id",
                "apr_id",
                "img_proc_id",
                "collimator_size",
                "collimator_width",
                "collimator_length",
                "image_laterality",
                "image_rotate",
                "image_horizontal_flip",
                "label_position",
                "orientation_row",
                "orientation_column",
                "target_exi",
                "sort",
                "is_enabled",
            ],
            self.views,
        )
        write_csv(
            d / "aprs.csv",
            [
                "apr_id",
                "apr_name",
                "description_zh",
                "description_en",
                "patient_type",
                "body_part_id",
                "view_position",
                "category",
                "modality",
                "sort",
                "is_enabled",
            ],
            self.aprs,
        )
        write_csv(
            d / "exposures.csv",
            [
                "apr_id",
                "work_station_id",
                "patient_size",
                "kV",
                "mA",
                "ms",
                "mAs",
                "focus",
                "aec_field",
                "thickness",
                "grid_type",
            ],
            self.exposures,
        )
        write_csv(
            d / "devices.csv",
            [
                "apr_id",
                "work_station_id",
                "sid",
                "grid_type",
                "detector_angle",
                "tube_angle",
                "apr_number",
                "position_number",
                "thickness",
            ],
            self.devices,
        )
        write_csv(
            d / "procedures.csv",
            [
                "id",
                "procedure_id",
                "name_zh",
                "name_en",
                "patient_type",
                "body_part_id",
                "procedure_type",
                "fast_search",
                "protocol_laterality",
                "procedure_category",
                "modality",
                "sort",
                "is_enabled",
            ],
            self.procedures,
        )
        write_csv(d / "procedure_views.csv", ["procedure_id", "view_id", "sort"], self.links)


def procedure_laterality(lats: list[str]) -> str:
    sides = {x for x in lats if x in ("L", "R")}
    if "B" in lats or len(sides) == 2:
        return "B"
    return sides.pop() if sides else "U"


def add_procedures(
    p: Product,
    prefix: str,
    series: list[tuple],
    views_by_key: dict[str, list],
    singles: list[list],
    part_sort: dict[str, int],
) -> None:
    """Routine series first (in the given order), then one single-view procedure per view not already covered."""
    covered: set[tuple[str, str, str]] = set()
    rows: list[tuple] = []
    for zh, en, keys, ptype, category, fast in series:
        vs = [views_by_key[k] for k in keys]
        rows.append((zh, en, vs, ptype, category, fast))
        if len(vs) == 1:
            covered.add((vs[0][1], ptype, category))
    for v in singles:
        if (v[1], "NORMAL", "Adult") not in covered:
            rows.append((v[2], v[3], [v], "NORMAL", "Adult", False))
    per_part: Counter[str] = Counter()
    for n, (zh, en, vs, ptype, category, fast) in enumerate(rows, start=1):
        pid = f"{prefix}-{n:04d}"
        parts = Counter(v[8] for v in vs)
        top = max(parts.values())
        body_part = next(v[8] for v in vs if parts[v[8]] == top)
        per_part[body_part] += 1
        enabled = all(v[-1] for v in vs)
        p.procedures.append(
            [
                n,
                pid,
                zh,
                en,
                vs[0][7],
                body_part,
                ptype,
                fast,
                procedure_laterality([v[19] for v in vs]),
                category,
                "DX",
                per_part[body_part],
                enabled,
            ]
        )
        for i, v in enumerate(vs, start=1):
            p.links.append([pid, v[1], i])


def build_human() -> Product:
    p = Product("DROS")
    p.patient_types.append([1, "Human", "Human", "人", "Human patient", "人类患者", 1, True])
    part_sort = {}
    for i, (key, zh, en, _region, enabled) in enumerate(human.BODY_PARTS, start=1):
        p.body_parts.append([i, f"Human_{key}", "Human", zh, en, "DX", i, enabled])
        part_sort[f"Human_{key}"] = i
    region_of = {k: r for k, _, _, r, _ in human.BODY_PARTS}
    seq: Counter[tuple[str, str]] = Counter()
    part_n: Counter[str] = Counter()
    views_by_key: dict[str, list] = {}
    ordered = []
    for n, v in enumerate(human.VIEWS, start=1):
        code = human.REGION[v.part]
        id_pos = v.extra.get("id_pos", v.pos)
        nn = seq[(code, id_pos)]
        seq[(code, id_pos)] += 1
        vid = f"View_DX_T_A_{code}_{id_pos}_{nn:02d}"
        part_n[v.part] += 1
        size, width, length = human.FORMATS[v.fmt]
        row, col = human_orientation(v)
        t = human.TECH[v.tech]
        icon = f"/Image/Position/Human/{vid}.svg"
        big = f"/Image/Position/Human/{vid}.large.svg"
        view_row = [
            n,
            vid,
            v.zh,
            v.en,
            v.pos,
            "RAD",
            region_of[v.part],
            "Human",
            f"Human_{v.part}",
            icon,
            big,
            big,
            "DX",
            v.ws,
            vid,
            vid,
            size,
            width,
            length,
            v.lat,
            "0",
            "NO",
            label_position(v.lat),
            row,
            col,
            t.exi,
            part_n[v.part],
            v.enabled,
        ]
        p.views.append(view_row)
        views_by_key[v.key] = view_row
        ordered.append(view_row)
        p.aprs.append(
            [vid, vid, v.zh, v.en, "Human", f"Human_{v.part}", v.pos, t.category, "DX", part_n[v.part], v.enabled]
        )
        # exposures: station × size
        wall_kv, wall_mas = t.wall if t.wall else (t.kv, None)
        base = {0: (t.kv, r10_index(t.mas))}
        if wall_mas is not None:
            base[1] = (wall_kv, r10_index(wall_mas))
        else:
            base[1] = (t.kv, r10_index(t.mas) + round(20 * math.log10(t.wall_sid / t.table_sid)))
        grid = {0: 1 if t.grid else 0, 1: 2 if t.grid else 0}
        for ws in (0, 1):
            kv0, mi0 = base[ws]
            for size in SIZES:
                dkv, dsteps = human.SIZE_RULES[t.cls][size]
                ma, ms, mas = decompose(mi0 + dsteps, t.focus)
                thick = max(1, round(t.thickness * human.SIZE_THICKNESS[size]))
                p.exposures.append(
                    [vid, ws, size, clamp_kv(kv0 + dkv), num(ma), num(ms), num(mas), t.focus, t.aec, thick, grid[ws]]
                )
            sid = t.table_sid if ws == 0 else t.wall_sid
            p.devices.append([vid, ws, sid, grid[ws], 0, v.angle, str(n), str(ws + 1), t.thickness])

    # expand {s}/{side} series over L/R
    series = []
    for zh, en, keys, ptype, category, fast in human.SERIES:
        if "{s}" in zh:
            for s, side, suffix in (("左", "left", ".L"), ("右", "right", ".R")):
                ks = [k + suffix if k + suffix in views_by_key else k for k in keys]
                series.append((zh.format(s=s), en.format(side=side), ks, ptype, category, fast))
        else:
            series.append((zh, en, keys, ptype, category, fast))
    add_procedures(p, "P0", series, views_by_key, ordered, part_sort)
    return p


VET_REGION = {
    "THORAX": "TH",
    "ABDOMEN": "AB",
    "PELVIS": "PV",
    "CSPINE": "CS",
    "TSPINE": "TS",
    "LSPINE": "LS",
    "SPINE": "SP",
    "SKULL": "SK",
    "DENTAL": "DE",
    "FORELIMB": "FL",
    "HINDLIMB": "HL",
    "TAIL": "TA",
    "WHOLE BODY": "WB",
    "WING": "WI",
    "LEG": "LE",
    "SHELL": "SH",
    "FOOT": "FO",
    "FETLOCK": "FE",
    "CARPUS": "CA",
    "TARSUS": "TR",
    "STIFLE": "ST",
    "HEAD": "HE",
    "NECK": "NE",
    "LIMB": "LI",
}
VET_EXI = {"THORAX": 300, "ABDOMEN": 250, "BONE": 250, "LIMB": 400, "DENTAL": 400, "EXOTIC": 400}
VET_FOCUS = {"THORAX": 1, "ABDOMEN": 1, "BONE": 1, "LIMB": 0, "DENTAL": 0, "EXOTIC": 0}
VET_WALL_SID = 115


def build_vet() -> Product:
    p = Product("VETDROS")
    for i, (key, zh, en, enabled) in enumerate(vet.SPECIES, start=1):
        p.patient_types.append([i, key, en, zh, en, zh, i, enabled])
    parts: list[tuple[str, str]] = []
    for v in vet.VIEWS:
        if (v.species, v.part) not in parts:
            parts.append((v.species, v.part))
    part_ids = {}
    per_species: Counter[str] = Counter()
    for i, (species, part) in enumerate(parts, start=1):
        per_species[species] += 1
        zh, en = vet.PART_NAMES[part]
        sp_zh = {k: z for k, z, _, _ in vet.SPECIES}[species]
        bid = f"{species}_{part}"
        part_ids[(species, part)] = bid
        p.body_parts.append(
            [i, bid, species, f"{sp_zh}{zh}", f"{species} {en.lower()}", "DX", per_species[species], True]
        )
    seq: Counter[tuple] = Counter()
    part_n: Counter[str] = Counter()
    keyed: dict[str, dict[str, list]] = {}
    ordered: dict[str, list] = {}
    for n, v in enumerate(vet.VIEWS, start=1):
        code = vet.SPECIES_CODE[v.species]
        region = VET_REGION[v.part]
        nn = seq[(code, region, v.pos)]
        seq[(code, region, v.pos)] += 1
        vid = f"View_DX_{code}_{region}_{v.pos}_{nn:02d}"
        bid = part_ids[(v.species, v.part)]
        part_n[bid] += 1
        size, width, length = human.FORMATS[v.fmt]
        row, col = vet_orientation(v.pos)
        icon = f"/Image/Position/{v.species}/{vid}.svg"
        big = f"/Image/Position/{v.species}/{vid}.large.svg"
        view_row = [
            n,
            vid,
            v.zh,
            v.en,
            v.pos,
            "RAD",
            v.part,
            v.species,
            bid,
            icon,
            big,
            big,
            "DX",
            v.ws,
            vid,
            vid,
            size,
            width,
            length,
            v.lat,
            "0",
            "NO",
            label_position(v.lat),
            row,
            col,
            VET_EXI[v.cls],
            part_n[bid],
            True,
        ]
        p.views.append(view_row)
        keyed.setdefault(v.species, {})[v.key] = view_row
        ordered.setdefault(v.species, []).append(view_row)
        p.aprs.append([vid, vid, v.zh, v.en, v.species, bid, v.pos, f"{code}_{v.cls}", "DX", part_n[bid], True])
        focus = VET_FOCUS[v.cls]
        for ws in (0, 1):
            for sz in SIZES:
                t = v.thickness * vet.SIZE_THICKNESS[sz]
                grid = t > vet.GRID_ABOVE_CM
                mas_i = r10_index(vet.MAS_CLASS[v.cls][1 if grid else 0])
                if ws == 1:
                    mas_i += round(20 * math.log10(VET_WALL_SID / 100))
                ma, ms, mas = decompose(mas_i, focus)
                gt = (2 if ws else 1) if grid else 0
                p.exposures.append(
                    [vid, ws, sz, clamp_kv(2 * t + 40), num(ma), num(ms), num(mas), focus, "010", max(1, round(t)), gt]
                )
        grid_m = v.thickness > vet.GRID_ABOVE_CM
        p.devices.append([vid, 0, 100, 1 if grid_m else 0, 0, v.angle, str(n), "1", num(v.thickness)])
        p.devices.append([vid, 1, VET_WALL_SID, 2 if grid_m else 0, 0, v.angle, str(n), "2", num(v.thickness)])
    n_before = 0
    for species, _zh, _en, _ in vet.SPECIES:
        series = [(zh, en, keys, ptype, "Adult", fast) for zh, en, keys, ptype, fast in vet.SERIES[species]]
        sub = Product("tmp")
        add_procedures(sub, "PV", series, keyed[species], ordered[species], {})
        # renumber across species so ids stay unique
        remap = {}
        for row in sub.procedures:
            n_before += 1
            new_id = f"PV-{n_before:04d}"
            remap[row[1]] = new_id
            p.procedures.append([n_before, new_id, *row[2:]])
        for pid, vid, s in sub.links:
            p.links.append([remap[pid], vid, s])
    return p


def build_thickness() -> list[list]:
    """Thickness → exposure (1–50 cm): Sante's rule kV = 2·cm + 40 at SID 100 cm, mAs stepping up at the grid
    threshold (10 cm) and with the scatter of thicker parts; 50 cm → 140 kV 20 mAs as in the reference."""
    rows = []
    for t in range(1, 51):
        kv = clamp_kv(2 * t + 40)
        if t <= 4:
            mas = 1.6
        elif t <= 7:
            mas = 2
        elif t <= 10:
            mas = 2.5
        elif t <= 20:
            mas = 6.3
        elif t <= 30:
            mas = 10
        elif t <= 40:
            mas = 16
        else:
            mas = 20
        ma, ms, mas_v = decompose(r10_index(mas), 0 if t <= 10 else 1)
        rows.append([t, kv, num(ma), num(ms), num(mas_v)])
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    out: Path = args.out
    build_human().write(out)
    build_vet().write(out)
    write_csv(out / "thickness.csv", ["thickness", "kV", "mA", "ms", "mAs"], build_thickness())
    (out / "manifest.toml").write_text(
        "# Pre-installed protocol catalog. Generated by tools/catalog/gen_catalog.py; see docs/protocol-catalog.md.\n"
        f'catalog_version = "{CATALOG_VERSION}"\n'
        'products = ["DROS", "VETDROS"]\n',
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
