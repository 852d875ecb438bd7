"""The pre-installed catalog files: coverage of the body parts and named projections, exposure values against
chart ranges, integrity rules (each one shown to fail on a broken copy), icons, and the generator."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from dros.catalog_data import ROOT, SIZES, CatalogError, icons, load, mas_consistent

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def catalog():
    return load()


def rows(catalog, product: str, table: str) -> list[dict]:
    return catalog.products[product].tables[table]


# ---- coverage ----
def test_counts(catalog) -> None:
    assert len(rows(catalog, "DROS", "views")) >= 120
    assert len(rows(catalog, "DROS", "procedures")) >= 100
    assert len(rows(catalog, "VETDROS", "views")) >= 80
    species = {t["patient_type_id"] for t in rows(catalog, "VETDROS", "patient_types")}
    assert {"Dog", "Cat"} <= species and len(species) >= 5
    assert {t["patient_type_id"] for t in rows(catalog, "DROS", "patient_types")} == {"Human"}


HUMAN_PARTS = [
    "SKULL",
    "FACIAL BONES",
    "SINUS",
    "MANDIBLE",
    "CSPINE",
    "TSPINE",
    "LSPINE",
    "SACRUM",
    "CHEST",
    "RIBS",
    "ABDOMEN",
    "PELVIS",
    "HIP",
    "SHOULDER",
    "CLAVICLE",
    "SCAPULA",
    "HUMERUS",
    "ELBOW",
    "FOREARM",
    "WRIST",
    "HAND",
    "FEMUR",
    "KNEE",
    "PATELLA",
    "TIBIA",
    "ANKLE",
    "FOOT",
    "CALCANEUS",
    "WHOLE SPINE",
    "LONG LEG",
]


def test_every_listed_human_body_part_has_views_and_procedures(catalog) -> None:
    views = rows(catalog, "DROS", "views")
    procs = rows(catalog, "DROS", "procedures")
    for part in HUMAN_PARTS:
        bid = f"Human_{part}"
        assert sum(v["body_part_id"] == bid for v in views) >= 2, bid
        assert any(p["body_part_id"] == bid for p in procs), bid
    positions = {v["view_position"] for v in views}
    assert {"AP", "PA", "LAT", "OBL", "Axial"} <= positions
    assert {v["image_laterality"] for v in views} == {"U", "L", "R", "B"}


@pytest.mark.parametrize(
    "needle",
    [
        "Towne",
        "Waters",
        "Caldwell",
        "swimmer's",
        "scapular Y",
        "Merchant",
        "skyline",
        "mortise",
        "Judet",
        "odontoid",
        "Grashey",
        "axillary",
        "Harris",
        "Lauenstein",
        "Danelius-Miller",
        "Rhese",
        "SMV",
        "lordotic",
        "decubitus",
        "Coyle",
        "scaphoid",
        "Carpal tunnel",
        "inlet",
        "outlet",
        "Ferguson",
        "bone age",
    ],
)
def test_named_special_views(catalog, needle: str) -> None:
    assert any(needle.lower() in v["name_en"].lower() for v in rows(catalog, "DROS", "views")), needle


def test_veterinary_coverage(catalog) -> None:
    views = rows(catalog, "VETDROS", "views")
    parts = {p["body_part_id"] for p in rows(catalog, "VETDROS", "body_parts")}
    for species in ("Dog", "Cat"):
        for part in ("THORAX", "ABDOMEN", "PELVIS", "SKULL", "DENTAL", "FORELIMB", "HINDLIMB", "TAIL"):
            assert f"{species}_{part}" in parts, (species, part)
    assert {"Dog_CSPINE", "Dog_TSPINE", "Dog_LSPINE", "Cat_SPINE"} <= parts
    names = [v["name_en"] for v in views]
    assert any("extended-leg" in n and n.startswith("Dog hips VD") for n in names)
    assert any(n.startswith("Cat hips VD extended-leg") for n in names)
    assert {"VD", "DV", "LAT", "ML", "CrCd", "CdCr", "DPa", "DPl"} <= {v["view_position"] for v in views}
    for species in ("Rabbit", "Bird", "Reptile", "Equine"):
        assert sum(v["patient_type"] == species for v in views) >= 5, species


# ---- integrity (the same rules load() enforces; stated here on the shipped data) ----
def test_ids_unique_and_both_languages(catalog) -> None:
    all_views: list[str] = []
    for product in ("DROS", "VETDROS"):
        for table, key in (
            ("views", "view_id"),
            ("views", "id"),
            ("procedures", "procedure_id"),
            ("procedures", "id"),
            ("body_parts", "body_part_id"),
            ("aprs", "apr_id"),
        ):
            ids = [r[key] for r in rows(catalog, product, table)]
            assert len(ids) == len(set(ids)), (product, table, key)
        all_views += [v["view_id"] for v in rows(catalog, product, "views")]
        for table in ("patient_types", "body_parts", "views", "procedures"):
            for r in rows(catalog, product, table):
                assert any("\u4e00" <= ch <= "\u9fff" for ch in r["name_zh"]), r
                assert r["name_en"] and not any("\u4e00" <= ch <= "\u9fff" for ch in r["name_en"]), r
    assert len(all_views) == len(set(all_views))


def test_procedures_views_and_aprs_complete(catalog) -> None:
    for product in ("DROS", "VETDROS"):
        views = {v["view_id"]: v for v in rows(catalog, product, "views")}
        links: dict[str, list[str]] = {}
        for link in rows(catalog, product, "procedure_views"):
            assert link["view_id"] in views
            links.setdefault(link["procedure_id"], []).append(link["view_id"])
        for p in rows(catalog, product, "procedures"):
            assert links.get(p["procedure_id"]), p["procedure_id"]
            assert all(views[v]["patient_type"] == p["patient_type"] for v in links[p["procedure_id"]])
        entries: dict[str, set] = {}
        for e in rows(catalog, product, "exposures"):
            entries.setdefault(e["apr_id"], set()).add((e["work_station_id"], e["patient_size"]))
        for v in views.values():
            assert entries[v["apr_id"]] == {(ws, s) for ws in (0, 1) for s in SIZES}, v["view_id"]


def test_exposures_inside_generator_limits(catalog) -> None:
    for product in ("DROS", "VETDROS"):
        for e in rows(catalog, product, "exposures"):
            assert 40 <= e["kV"] <= 150 and 10 <= e["mA"] <= 1000 and 1 <= e["ms"] <= 10000
            assert 0.1 <= e["mAs"] <= 1000
            assert abs(e["mAs"] - e["mA"] * e["ms"] / 1000) <= 0.01 * e["mAs"], e
            assert mas_consistent(e["mA"], e["ms"], e["mAs"])


def test_sizes_are_ordered(catalog) -> None:
    """A bigger patient never gets less: Paediatric ≤ Small ≤ Medium ≤ Large in kV and in mAs."""
    order = ["Paediatric", "Small", "Medium", "Large"]
    for product in ("DROS", "VETDROS"):
        by: dict[tuple[str, int], dict[str, dict]] = {}
        for e in rows(catalog, product, "exposures"):
            by.setdefault((e["apr_id"], e["work_station_id"]), {})[e["patient_size"]] = e
        for key, sizes in by.items():
            kv = [sizes[s]["kV"] for s in order]
            mas = [sizes[s]["mAs"] for s in order]
            assert kv == sorted(kv) and mas == sorted(mas), (key, kv, mas)


# (view, work station) → Medium-adult kV and mAs ranges from the textbook DR exposure charts (grid, 100 cm
# table / 180 cm chest stand)
CHART = [
    ("View_DX_T_A_CH_PA_00", 1, (110, 125), (1.6, 4)),  # chest PA at 180 cm
    ("View_DX_T_A_CH_LAT_00", 1, (115, 130), (4, 10)),  # chest LAT
    ("View_DX_T_A_SK_AP_00", 0, (70, 85), (12.5, 32)),  # skull AP
    ("View_DX_T_A_CS_LAT_00", 1, (70, 85), (12.5, 40)),  # C-spine LAT at 180 cm
    ("View_DX_T_A_LS_AP_00", 0, (75, 90), (16, 40)),  # L-spine AP
    ("View_DX_T_A_LS_LAT_00", 0, (85, 100), (25, 63)),  # L-spine LAT
    ("View_DX_T_A_AB_AP_00", 0, (70, 85), (16, 40)),  # abdomen AP
    ("View_DX_T_A_PV_AP_00", 0, (70, 85), (16, 40)),  # pelvis AP
    ("View_DX_T_A_SH_AP_00", 1, (65, 80), (6.3, 20)),  # shoulder AP
    ("View_DX_T_A_KN_AP_00", 0, (60, 75), (3.2, 10)),  # knee AP
    ("View_DX_T_A_AN_LAT_00", 0, (55, 66), (1.6, 5)),  # ankle LAT
    ("View_DX_T_A_HD_PA_00", 0, (48, 60), (1, 3.2)),  # hand PA
    ("View_DX_T_A_HD_PA_02", 0, (45, 58), (0.8, 2.5)),  # fingers PA
    ("View_DX_DOG_TH_LAT_00", 0, (65, 85), (2.5, 10)),  # 20 kg dog thorax LAT
    ("View_DX_DOG_AB_LAT_00", 0, (65, 85), (6.3, 16)),  # dog abdomen LAT
    ("View_DX_CAT_TH_LAT_00", 0, (50, 66), (1.6, 5)),  # cat thorax LAT, table-top
]


@pytest.mark.parametrize(("apr", "ws", "kv", "mas"), CHART)
def test_medium_exposure_matches_chart(catalog, apr: str, ws: int, kv: tuple, mas: tuple) -> None:
    product = "VETDROS" if "_T_A_" not in apr else "DROS"
    e = next(
        e
        for e in rows(catalog, product, "exposures")
        if e["apr_id"] == apr and e["work_station_id"] == ws and e["patient_size"] == "Medium"
    )
    assert kv[0] <= e["kV"] <= kv[1] and mas[0] <= e["mAs"] <= mas[1], e


def test_thickness_table(catalog) -> None:
    t = catalog.thickness
    assert [r["thickness"] for r in t] == list(range(1, 51))
    for a, b in itertools.pairwise(t):
        assert b["kV"] >= a["kV"] and b["mAs"] >= a["mAs"]
    assert all(40 <= r["kV"] <= 150 and mas_consistent(r["mA"], r["ms"], r["mAs"]) for r in t)


# ---- broken copies must be refused ----
def edit_csv(path: Path, fn: Callable[[list[list[str]]], None]) -> None:
    table = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    fn(table)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(table)
    path.write_text(buf.getvalue(), encoding="utf-8")


def col(table: list[list[str]], name: str) -> int:
    return table[0].index(name)


def set_cell(name: str, value: str, row: int = 1) -> Callable[[list[list[str]]], None]:
    def fn(t: list[list[str]]) -> None:
        t[row][col(t, name)] = value

    return fn


def drop_row(row: int = 1) -> Callable[[list[list[str]]], None]:
    return lambda t: t.pop(row)


def dup_row(row: int = 1) -> Callable[[list[list[str]]], None]:
    return lambda t: t.insert(row, list(t[row]))


def drop_links_of_first_procedure(t: list[list[str]]) -> None:
    first = t[1][0]
    t[:] = [r for r in t if r[0] != first]


def swap_thickness(t: list[list[str]]) -> None:
    t[20][1], t[21][1] = t[21][1], t[20][1]


BROKEN = [
    ("dros/views.csv", drop_row(1), "unknown view"),  # a procedure's view is missing
    ("dros/exposures.csv", drop_row(5), "lacks"),  # an APR lacks a size × station entry
    ("vetdros/devices.csv", drop_row(1), "lacks work stations"),
    ("dros/views.csv", dup_row(3), "duplicate view_id"),
    ("dros/procedures.csv", set_cell("procedure_id", "P0-0002", 1), "duplicate procedure_id"),
    ("dros/body_parts.csv", set_cell("name_zh", "Skull"), "no Chinese characters"),
    ("vetdros/views.csv", set_cell("name_en", ""), "empty name"),
    ("dros/procedures.csv", set_cell("name_en", "颅骨"), "is not English"),
    ("dros/exposures.csv", set_cell("kV", "160"), "kV 160"),
    ("dros/exposures.csv", set_cell("kV", "35"), "outside"),
    ("vetdros/exposures.csv", set_cell("mAs", "9"), "mA·ms/1000"),
    ("dros/exposures.csv", set_cell("patient_size", "Huge"), "bad work station/size"),
    ("thickness.csv", swap_thickness, "decrease"),
    ("dros/views.csv", set_cell("view_icon_name", "/Image/Position/Human/View_DX_T_A_SK_AP_00.svg", 2), "shared with"),
    ("dros/views.csv", set_cell("view_icon_name", "/Image/Position/Human/../../x.svg"), "is not an .svg under"),
    ("dros/views.csv", set_cell("view_position", "SIDEWAYS"), "view_position"),
    ("dros/procedures.csv", set_cell("body_part_id", "Human_TAIL"), "unknown body_part_id"),
    ("dros/procedure_views.csv", drop_links_of_first_procedure, "no views"),
    ("dros/exposures.csv", set_cell("ms", "fast"), "is not a number"),
    ("dros/views.csv", set_cell("is_enabled", "yes"), "is not true/false"),
    ("dros/views.csv", lambda t: t[0].__setitem__(2, "name_cn"), "header"),
    ("vetdros/body_parts.csv", set_cell("patient_type", "Dragon"), "unknown patient_type"),
    ("dros/views.csv", set_cell("is_enabled", "true", -1), "enabled under a disabled body part"),
]


@pytest.mark.parametrize(("path", "breaker", "message"), BROKEN, ids=[f"{p}:{m}" for p, _, m in BROKEN])
def test_broken_catalog_is_refused(tmp_path: Path, path: str, breaker: Callable, message: str) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    load(root)  # the unbroken copy is fine
    edit_csv(root / path, breaker)
    with pytest.raises(CatalogError) as info:
        load(root)
    assert message in str(info.value), str(info.value)


def test_missing_file_and_manifest_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (root / "vetdros" / "aprs.csv").unlink()
    with pytest.raises(CatalogError, match="missing"):
        load(root)
    shutil.rmtree(root)
    shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (root / "manifest.toml").write_text('products = ["DROS"]\n')
    with pytest.raises(CatalogError, match="catalog_version"):
        load(root)


# ---- icons ----
def test_icons_cover_every_path_and_are_distinct_pictures(catalog) -> None:
    rendered = icons.render_all(catalog)
    referenced = set().union(*(pc.icon_paths() for pc in catalog.products.values()))
    assert set(rendered) == referenced
    # coach and big icon share one path per view; every distinct path is a distinct picture
    assert len({hashlib.sha256(b).digest() for b in rendered.values()}) == len(rendered)
    views = {v["view_icon_name"]: v for pc in catalog.products.values() for v in pc.tables["views"]}
    for path, data in rendered.items():
        root = ET.fromstring(data)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        shapes = [el for el in root.iter() if el.tag.split("}")[1] in ("ellipse", "path", "line", "circle", "rect")]
        assert len(shapes) >= 8, path  # a body outline, the region, the ray and the detector, not a blank
        if path in views:
            assert views[path]["name_en"] in "".join(root.itertext())


def test_icons_written_once_per_release(tmp_path: Path, catalog) -> None:
    written = icons.install(tmp_path / "Image", catalog)
    files = list((tmp_path / "Image" / "Position").rglob("*.svg"))
    assert written == len(files) == len(icons.render_all(catalog))
    assert icons.install(tmp_path / "Image", catalog) == 0  # second start: nothing to do
    files[0].unlink()
    files[1].write_text("<svg/>")
    assert (
        icons.install(tmp_path / "Image", catalog) == 2
    )  # a deleted picture triggers a redraw, which also repairs the altered one
    assert icons.install(tmp_path / "Image", catalog) == 0


# ---- the generator reproduces the committed files ----
def test_generator_reproduces_committed_files(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    subprocess.run(
        [sys.executable, str(REPO / "tools" / "catalog" / "gen_catalog.py"), "--out", str(out)], check=True, cwd=REPO
    )
    produced = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    shipped = sorted(p.relative_to(ROOT) for p in ROOT.rglob("*") if p.suffix in (".csv", ".toml"))
    assert produced == shipped
    for rel in produced:
        assert (out / rel).read_bytes() == (ROOT / rel).read_bytes(), rel
