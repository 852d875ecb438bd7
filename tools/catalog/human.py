"""The DROS (human) catalog source: body parts, views with their technique group, and procedures.

Techniques are the Medium-adult exposure at the table Bucky (SID 100 cm). They sit inside the ranges of the
standard positioning textbooks' exposure charts for DR with a grid (Bontrager/Lampignano "Textbook of
Radiographic Positioning" technique pages, Merrill's Atlas exposure tables, the Carestream/Philips default
APR charts): e.g. chest PA 120 kV at 180 cm, lumbar spine LAT 90 kV 40 mAs, hand PA 52 kV 2 mAs. gen_catalog.py
derives the wall-stand values (inverse-square law on SID) and the patient-size values (rules in SIZE_RULES).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Tech:
    """Medium-adult technique at the table (work station 0, SID 100 cm)."""

    cls: str  # size-rule class: EXT, TRUNK, CHEST
    kv: float
    mas: float
    grid: bool
    category: str  # APR category
    thickness: int  # typical Medium patient thickness in the beam, cm
    exi: int  # TargetEXI
    wall_sid: int = 115  # wall-stand SID, cm
    wall: tuple[float, float] | None = None  # explicit wall kV/mAs where the chart gives one (not just inverse square)
    focus: int = 1  # 0 small, 1 large focal spot
    aec: str = "010"  # AEC chambers: centre
    table_sid: int = 100


T = Tech
# name: technique (Medium adult, table SID 100 cm)
TECH: dict[str, Tech] = {
    # skull and face — grid, 100 cm
    "SKULL_AP": T("TRUNK", 75, 20, True, "SKULL", 19, 250),
    "SKULL_LAT": T("TRUNK", 70, 12.5, True, "SKULL", 15, 250),
    "SKULL_TOWNE": T("TRUNK", 80, 25, True, "SKULL", 20, 250),
    "SKULL_CALDWELL": T("TRUNK", 75, 20, True, "SKULL", 19, 250),
    "SKULL_SMV": T("TRUNK", 80, 32, True, "SKULL", 23, 250),
    "FACE_WATERS": T("TRUNK", 75, 20, True, "SKULL", 20, 250),
    "FACE_LAT": T("TRUNK", 66, 10, True, "SKULL", 15, 250),
    "NASAL_LAT": T("EXT", 55, 4, False, "EXTREMITIES_SMALL", 3, 300, focus=0),
    "ZYGO_SMV": T("TRUNK", 65, 8, True, "SKULL", 21, 250),
    "ORBIT_RHESE": T("TRUNK", 75, 16, True, "SKULL", 17, 250),
    "MANDIBLE_PA": T("TRUNK", 75, 16, True, "SKULL", 14, 250),
    "MANDIBLE_OBL": T("TRUNK", 70, 10, True, "SKULL", 12, 250),
    "TMJ": T("TRUNK", 75, 16, True, "SKULL", 15, 250),
    # spine
    "CSPINE_AP": T("TRUNK", 70, 10, True, "SPINE", 12, 250),
    "CSPINE_ODONTOID": T("TRUNK", 75, 12.5, True, "SPINE", 13, 250),
    "CSPINE_LAT": T("TRUNK", 75, 8, True, "SPINE", 12, 250, wall_sid=180, wall=(75, 25)),
    "CSPINE_OBL": T("TRUNK", 75, 8, True, "SPINE", 13, 250, wall_sid=180, wall=(75, 25)),
    "SWIMMERS": T("TRUNK", 90, 50, True, "SPINE", 38, 250),
    "TSPINE_AP": T("TRUNK", 80, 20, True, "SPINE", 23, 250),
    "TSPINE_LAT": T("TRUNK", 80, 32, True, "SPINE", 33, 250),
    "LSPINE_AP": T("TRUNK", 80, 25, True, "SPINE", 22, 250),
    "LSPINE_LAT": T("TRUNK", 90, 40, True, "SPINE", 30, 250),
    "LSPINE_OBL": T("TRUNK", 85, 32, True, "SPINE", 25, 250),
    "L5S1_LAT": T("TRUNK", 95, 63, True, "SPINE", 32, 250),
    "L5S1_AXIAL": T("TRUNK", 85, 32, True, "SPINE", 22, 250),
    "SACRUM_AP": T("TRUNK", 80, 25, True, "SPINE", 20, 250),
    "SACRUM_LAT": T("TRUNK", 90, 40, True, "SPINE", 30, 250),
    "COCCYX_AP": T("TRUNK", 75, 20, True, "SPINE", 20, 250),
    "COCCYX_LAT": T("TRUNK", 85, 32, True, "SPINE", 28, 250),
    "SI_AP": T("TRUNK", 80, 25, True, "PELVIS", 20, 250),
    "SI_OBL": T("TRUNK", 80, 32, True, "PELVIS", 21, 250),
    # chest — the chart entry is the wall stand at 180 cm; the table entry is the supine AP technique
    "CHEST_PA": T("CHEST", 90, 3.2, True, "CHEST", 22, 300, wall_sid=180, wall=(120, 2.5), aec="101"),
    "CHEST_LAT": T("CHEST", 100, 5, True, "CHEST", 32, 300, wall_sid=180, wall=(125, 6.3), aec="010"),
    "CHEST_AP": T("CHEST", 90, 3.2, True, "CHEST", 22, 300, wall_sid=180, wall=(110, 2.5), aec="101"),
    "CHEST_LORDOTIC": T("CHEST", 90, 4, True, "CHEST", 24, 300, wall_sid=180, wall=(125, 3.2), aec="101"),
    "CHEST_DECUB": T("CHEST", 90, 4, True, "CHEST", 24, 300, wall_sid=180, wall=(120, 3.2), aec="101"),
    "CHEST_OBL": T("CHEST", 90, 5, True, "CHEST", 26, 300, wall_sid=180, wall=(125, 4), aec="101"),
    "STERNUM_OBL": T("TRUNK", 70, 20, True, "CHEST", 20, 250),
    "STERNUM_LAT": T("TRUNK", 80, 25, True, "CHEST", 30, 250),
    "RIBS_UPPER": T("TRUNK", 70, 12.5, True, "CHEST", 21, 250),
    "RIBS_LOWER": T("TRUNK", 80, 25, True, "ABDOMEN", 22, 250),
    "RIBS_OBL": T("TRUNK", 75, 16, True, "CHEST", 24, 250),
    # abdomen and pelvis
    "ABDOMEN_AP": T("TRUNK", 80, 25, True, "ABDOMEN", 22, 250, aec="111"),
    "ABDOMEN_LAT": T("TRUNK", 90, 50, True, "ABDOMEN", 30, 250),
    "ABDOMEN_DECUB": T("TRUNK", 80, 25, True, "ABDOMEN", 22, 250, aec="111"),
    "PELVIS_AP": T("TRUNK", 75, 25, True, "PELVIS", 21, 250, aec="101"),
    "PELVIS_AXIAL": T("TRUNK", 80, 32, True, "PELVIS", 22, 250, aec="101"),
    "PELVIS_JUDET": T("TRUNK", 80, 32, True, "PELVIS", 23, 250),
    "HIP_AP": T("TRUNK", 75, 20, True, "PELVIS", 20, 250),
    "HIP_FROG": T("TRUNK", 75, 20, True, "PELVIS", 19, 250),
    "HIP_AXIOLAT": T("TRUNK", 85, 40, True, "PELVIS", 28, 250),
    # shoulder girdle and upper limb
    "SHOULDER_AP": T("EXT", 70, 10, True, "EXTREMITIES_LARGE", 16, 300),
    "SHOULDER_GRASHEY": T("EXT", 70, 12.5, True, "EXTREMITIES_LARGE", 17, 300),
    "SHOULDER_Y": T("EXT", 75, 16, True, "EXTREMITIES_LARGE", 19, 300),
    "SHOULDER_AXILLARY": T("EXT", 70, 8, True, "EXTREMITIES_LARGE", 12, 300),
    "CLAVICLE": T("EXT", 70, 8, True, "EXTREMITIES_LARGE", 14, 300),
    "AC_JOINTS": T("EXT", 70, 8, True, "EXTREMITIES_LARGE", 14, 300, wall_sid=180, wall=(70, 25)),
    "SCAPULA_AP": T("EXT", 75, 12.5, True, "EXTREMITIES_LARGE", 17, 300),
    "SCAPULA_LAT": T("EXT", 75, 16, True, "EXTREMITIES_LARGE", 19, 300),
    "HUMERUS": T("EXT", 66, 6.3, True, "EXTREMITIES_LARGE", 9, 300),
    "HUMERUS_TRANSTHORACIC": T("TRUNK", 75, 20, True, "EXTREMITIES_LARGE", 35, 250),
    "ELBOW": T("EXT", 60, 3.2, False, "EXTREMITIES_MEDIUM", 7, 400, focus=0),
    "ELBOW_LAT": T("EXT", 60, 4, False, "EXTREMITIES_MEDIUM", 8, 400, focus=0),
    "FOREARM": T("EXT", 60, 3.2, False, "EXTREMITIES_MEDIUM", 7, 400, focus=0),
    "WRIST": T("EXT", 57, 2.5, False, "EXTREMITIES_SMALL", 5, 400, focus=0),
    "WRIST_LAT": T("EXT", 60, 3.2, False, "EXTREMITIES_SMALL", 6, 400, focus=0),
    "CARPAL_TUNNEL": T("EXT", 62, 4, False, "EXTREMITIES_SMALL", 6, 400, focus=0),
    "HAND": T("EXT", 52, 2, False, "EXTREMITIES_SMALL", 3, 400, focus=0),
    "HAND_LAT": T("EXT", 55, 2.5, False, "EXTREMITIES_SMALL", 7, 400, focus=0),
    "FINGER": T("EXT", 50, 1.6, False, "EXTREMITIES_SMALL", 2, 400, focus=0),
    "BONE_AGE": T("EXT", 50, 1.6, False, "EXTREMITIES_SMALL", 3, 400, focus=0),
    # lower limb
    "FEMUR": T("EXT", 75, 12.5, True, "EXTREMITIES_LARGE", 15, 300),
    "KNEE_AP": T("EXT", 65, 6.3, True, "EXTREMITIES_MEDIUM", 11, 300),
    "KNEE_LAT": T("EXT", 65, 5, True, "EXTREMITIES_MEDIUM", 10, 300),
    "KNEE_TUNNEL": T("EXT", 70, 8, True, "EXTREMITIES_MEDIUM", 12, 300),
    "KNEE_STANDING": T("EXT", 70, 8, True, "EXTREMITIES_MEDIUM", 12, 300),
    "PATELLA_PA": T("EXT", 70, 8, True, "EXTREMITIES_MEDIUM", 12, 300),
    "PATELLA_AXIAL": T("EXT", 65, 4, False, "EXTREMITIES_MEDIUM", 8, 400, focus=0),
    "TIBIA": T("EXT", 65, 4, False, "EXTREMITIES_MEDIUM", 10, 400, focus=0),
    "ANKLE": T("EXT", 60, 3.2, False, "EXTREMITIES_MEDIUM", 8, 400, focus=0),
    "ANKLE_LAT": T("EXT", 60, 2.5, False, "EXTREMITIES_MEDIUM", 7, 400, focus=0),
    "FOOT": T("EXT", 57, 2.5, False, "EXTREMITIES_SMALL", 6, 400, focus=0),
    "FOOT_LAT": T("EXT", 60, 2.5, False, "EXTREMITIES_SMALL", 7, 400, focus=0),
    "TOES": T("EXT", 52, 1.6, False, "EXTREMITIES_SMALL", 2, 400, focus=0),
    "CALC_AXIAL": T("EXT", 70, 5, False, "EXTREMITIES_SMALL", 7, 400, focus=0),
    "CALC_LAT": T("EXT", 60, 2.5, False, "EXTREMITIES_SMALL", 7, 400, focus=0),
    # stitching (one exposure per segment), wall stand at 180 cm is the chart entry
    "WHOLE_SPINE_AP": T("TRUNK", 85, 16, True, "SPINE", 22, 250, wall_sid=180, wall=(90, 32)),
    "WHOLE_SPINE_LAT": T("TRUNK", 95, 32, True, "SPINE", 30, 250, wall_sid=180, wall=(100, 63)),
    "LONG_LEG": T("EXT", 75, 8, True, "EXTREMITIES_LARGE", 14, 300, wall_sid=180, wall=(80, 16)),
}

# patient size → (kV change, mAs change in R10 steps of 10^(1/10) ≈ 1.26) per size-rule class.
# Thickness change drives it: about ±4 cm for trunk between sizes; +3 steps ≈ ×2 mAs plus +5 kV is the usual
# "large patient" chart line, children get ≈ ⅓ of the adult mAs at 10 kV less (ALARA).
SIZE_RULES: dict[str, dict[str, tuple[int, int]]] = {
    "EXT": {"Small": (-2, -1), "Medium": (0, 0), "Large": (3, 2), "Paediatric": (-5, -3)},
    "TRUNK": {"Small": (-3, -2), "Medium": (0, 0), "Large": (5, 3), "Paediatric": (-10, -5)},
    "CHEST": {"Small": (-5, -1), "Medium": (0, 0), "Large": (5, 2), "Paediatric": (-30, -3)},
}
SIZE_THICKNESS = {"Small": 0.8, "Medium": 1.0, "Large": 1.25, "Paediatric": 0.55}

# body parts: (key, zh, en, anatomic_region, enabled)
BODY_PARTS = [
    ("SKULL", "颅骨", "Skull", "SKULL", True),
    ("FACIAL BONES", "面骨", "Facial bones", "Facial bones", True),
    ("SINUS", "鼻窦", "Paranasal sinuses", "Facial bones", True),
    ("MANDIBLE", "下颌骨及颞下颌关节", "Mandible and TMJ", "Facial bones", True),
    ("CSPINE", "颈椎", "Cervical spine", "SPINE", True),
    ("TSPINE", "胸椎", "Thoracic spine", "SPINE", True),
    ("LSPINE", "腰椎", "Lumbar spine", "SPINE", True),
    ("SACRUM", "骶尾骨", "Sacrum and coccyx", "SPINE", True),
    ("CHEST", "胸部", "Chest", "CHEST", True),
    ("RIBS", "肋骨", "Ribs", "CHEST", True),
    ("ABDOMEN", "腹部", "Abdomen", "ABDOMEN", True),
    ("PELVIS", "骨盆", "Pelvis", "PELVIS", True),
    ("HIP", "髋关节", "Hip", "PELVIS", True),
    ("SHOULDER", "肩关节", "Shoulder", "UPPER LIMB", True),
    ("CLAVICLE", "锁骨", "Clavicle", "UPPER LIMB", True),
    ("SCAPULA", "肩胛骨", "Scapula", "UPPER LIMB", True),
    ("HUMERUS", "肱骨", "Humerus", "UPPER LIMB", True),
    ("ELBOW", "肘关节", "Elbow", "UPPER LIMB", True),
    ("FOREARM", "尺桡骨", "Forearm", "UPPER LIMB", True),
    ("WRIST", "腕关节", "Wrist", "UPPER LIMB", True),
    ("HAND", "手及手指", "Hand and fingers", "UPPER LIMB", True),
    ("FEMUR", "股骨", "Femur", "LOWER LIMB", True),
    ("KNEE", "膝关节", "Knee", "LOWER LIMB", True),
    ("PATELLA", "髌骨", "Patella", "LOWER LIMB", True),
    ("TIBIA", "胫腓骨", "Tibia and fibula", "LOWER LIMB", True),
    ("ANKLE", "踝关节", "Ankle", "LOWER LIMB", True),
    ("FOOT", "足及足趾", "Foot and toes", "LOWER LIMB", True),
    ("CALCANEUS", "跟骨", "Calcaneus", "LOWER LIMB", True),
    # Shipped disabled: stitching acquisition is not implemented yet; the rows are ready for it.
    ("WHOLE SPINE", "全脊柱（拼接）", "Whole spine (stitching)", "SPINE", False),
    ("LONG LEG", "下肢全长（拼接）", "Long leg (stitching)", "LOWER LIMB", False),
]

# Region code in view ids, per body part
REGION = {
    "SKULL": "SK", "FACIAL BONES": "FB", "SINUS": "SN", "MANDIBLE": "MD", "CSPINE": "CS", "TSPINE": "TS",
    "LSPINE": "LS", "SACRUM": "SC", "CHEST": "CH", "RIBS": "RB", "ABDOMEN": "AB", "PELVIS": "PV", "HIP": "HP",
    "SHOULDER": "SH", "CLAVICLE": "CL", "SCAPULA": "SP", "HUMERUS": "HU", "ELBOW": "EL", "FOREARM": "FA",
    "WRIST": "WR", "HAND": "HD", "FEMUR": "FE", "KNEE": "KN", "PATELLA": "PT", "TIBIA": "TB", "ANKLE": "AN",
    "FOOT": "FT", "CALCANEUS": "CA", "WHOLE SPINE": "WS", "LONG LEG": "LL",
}

# collimator formats: key → (CollimatorSize, width, length)
FORMATS = {
    "14x17": ("14IN(35CM)X17IN(43CM)", "14IN", "17IN"),
    "17x14": ("17IN(43CM)X14IN(35CM)", "17IN", "14IN"),
    "17x17": ("17IN(43CM)X17IN(43CM)", "17IN", "17IN"),
    "14x14": ("14IN(35CM)X14IN(35CM)", "14IN", "14IN"),
    "11x14": ("11IN(28CM)X14IN(35CM)", "11IN", "14IN"),
    "10x12": ("10IN(24CM)X12IN(30CM)", "10IN", "12IN"),
    "8x10": ("8IN(20CM)X10IN(25CM)", "8IN", "10IN"),
    "7x17": ("7IN(18CM)X17IN(43CM)", "7IN", "17IN"),
    "6x8": ("6IN(15CM)X8IN(20CM)", "6IN", "8IN"),
}


@dataclass(frozen=True)
class ViewDef:
    part: str
    pos: str  # view_position: AP PA LAT OBL Axial
    zh: str
    en: str
    tech: str
    ws: int  # default work station: 0 table, 1 wall stand
    fmt: str
    lat: str = "U"  # ImageLaterality: U, L, R, B
    angle: int = 0  # tube angle, degrees; + cephalad, − caudal
    key: str = ""  # short id used by the procedure list
    enabled: bool = True
    extra: dict = field(default_factory=dict)


def sided(part, pos, zh, en, tech, ws, fmt, key, angle=0):
    """Left and right variants; `zh` holds {s} (左/右), `en` holds {side}."""
    return [
        ViewDef(part, pos, zh.format(s="左"), en.format(side="left"), tech, ws, fmt, "L", angle, key + ".L"),
        ViewDef(part, pos, zh.format(s="右"), en.format(side="right"), tech, ws, fmt, "R", angle, key + ".R"),
    ]


V = ViewDef
VIEWS: list[ViewDef] = [
    # SKULL — ids of the reference examples (SK_AP_00, SK_LAT_00, SK_Axial_00) are kept
    V("SKULL", "AP", "颅骨前后位", "Skull AP", "SKULL_AP", 0, "10x12", key="SK.AP"),
    V("SKULL", "PA", "颅骨后前位", "Skull PA", "SKULL_AP", 1, "10x12", key="SK.PA"),
    *sided("SKULL", "LAT", "颅骨{s}侧位", "Skull LAT,{side}", "SKULL_LAT", 0, "10x12", "SK.LAT"),
    V("SKULL", "AP", "颅骨前后轴位（汤氏位）", "Skull AP Axial (Towne)", "SKULL_TOWNE", 0, "10x12", angle=-30,
      key="SK.TOWNE", extra={"id_pos": "Axial"}),
    V("SKULL", "PA", "颅骨后前轴位（柯氏位）", "Skull PA Axial (Caldwell)", "SKULL_CALDWELL", 1, "10x12", angle=-15,
      key="SK.CALDWELL", extra={"id_pos": "Axial"}),
    V("SKULL", "Axial", "颅底颏顶位", "Skull base SMV (submentovertical)", "SKULL_SMV", 1, "10x12", key="SK.SMV"),
    # FACIAL BONES
    V("FACIAL BONES", "PA", "面骨瓦氏位（鼻颏位）", "Facial bones Waters (parietoacanthial)", "FACE_WATERS", 1, "8x10",
      key="FB.WATERS"),
    V("FACIAL BONES", "PA", "面骨柯氏位", "Facial bones PA Caldwell", "SKULL_CALDWELL", 1, "8x10", angle=-15,
      key="FB.CALDWELL"),
    V("FACIAL BONES", "LAT", "面骨侧位", "Facial bones LAT", "FACE_LAT", 1, "8x10", key="FB.LAT"),
    V("FACIAL BONES", "LAT", "鼻骨侧位", "Nasal bones LAT", "NASAL_LAT", 0, "6x8", key="FB.NASAL"),
    V("FACIAL BONES", "Axial", "颧弓颏顶位", "Zygomatic arches SMV", "ZYGO_SMV", 0, "8x10", key="FB.ZYGO"),
    *sided("FACIAL BONES", "OBL", "{s}视神经孔位（Rhese位）", "Optic foramen Rhese,{side}", "ORBIT_RHESE", 1, "6x8",
           "FB.RHESE"),
    # SINUS — upright, so air-fluid levels show
    V("SINUS", "PA", "鼻窦瓦氏位", "Sinuses Waters", "FACE_WATERS", 1, "8x10", key="SN.WATERS"),
    V("SINUS", "PA", "鼻窦柯氏位", "Sinuses PA Caldwell", "SKULL_CALDWELL", 1, "8x10", angle=-15, key="SN.CALDWELL"),
    V("SINUS", "LAT", "鼻窦侧位", "Sinuses LAT", "FACE_LAT", 1, "8x10", key="SN.LAT"),
    V("SINUS", "Axial", "鼻窦颏顶位", "Sinuses SMV", "SKULL_SMV", 1, "8x10", key="SN.SMV"),
    V("SINUS", "PA", "鼻窦张口瓦氏位", "Sinuses open-mouth Waters", "FACE_WATERS", 1, "8x10", key="SN.OMWATERS"),
    # MANDIBLE and TMJ
    V("MANDIBLE", "PA", "下颌骨后前位", "Mandible PA", "MANDIBLE_PA", 1, "8x10", key="MD.PA"),
    V("MANDIBLE", "Axial", "下颌骨后前轴位", "Mandible PA Axial", "MANDIBLE_PA", 1, "8x10", angle=25, key="MD.PAAX"),
    *sided("MANDIBLE", "OBL", "下颌骨{s}侧斜位", "Mandible axiolateral OBL,{side}", "MANDIBLE_OBL", 0, "8x10",
           "MD.OBL", angle=25),
    V("MANDIBLE", "Axial", "下颌骨前后轴位（汤氏位）", "Mandible AP Axial (Towne)", "TMJ", 0, "8x10", angle=-35,
      key="MD.TOWNE"),
    *sided("MANDIBLE", "LAT", "{s}颞下颌关节闭口位", "TMJ LAT closed mouth,{side}", "TMJ", 0, "6x8", "MD.TMJC",
           angle=-15),
    *sided("MANDIBLE", "LAT", "{s}颞下颌关节张口位", "TMJ LAT open mouth,{side}", "TMJ", 0, "6x8", "MD.TMJO",
           angle=-15),
    # CERVICAL SPINE
    V("CSPINE", "AP", "颈椎前后位", "C-spine AP Axial", "CSPINE_AP", 1, "8x10", angle=15, key="CS.AP"),
    V("CSPINE", "AP", "寰枢椎张口位", "C1-C2 AP open mouth (odontoid)", "CSPINE_ODONTOID", 1, "8x10", key="CS.ODONT"),
    V("CSPINE", "LAT", "颈椎侧位", "C-spine LAT", "CSPINE_LAT", 1, "10x12", key="CS.LAT"),
    *sided("CSPINE", "OBL", "颈椎{s}前斜位", "C-spine anterior OBL,{side}", "CSPINE_OBL", 1, "10x12", "CS.OBL",
           angle=-15),
    V("CSPINE", "LAT", "颈椎过屈侧位", "C-spine LAT flexion", "CSPINE_LAT", 1, "10x12", key="CS.FLEX"),
    V("CSPINE", "LAT", "颈椎过伸侧位", "C-spine LAT extension", "CSPINE_LAT", 1, "10x12", key="CS.EXT"),
    V("CSPINE", "LAT", "颈胸段侧位（游泳者位）", "Cervicothoracic LAT (swimmer's)", "SWIMMERS", 1, "10x12",
      key="CS.SWIM"),
    V("CSPINE", "LAT", "颈椎水平侧位（创伤）", "C-spine cross-table LAT (trauma)", "CSPINE_LAT", 0, "10x12",
      key="CS.XTABLE"),
    # THORACIC SPINE
    V("TSPINE", "AP", "胸椎前后位", "T-spine AP", "TSPINE_AP", 0, "7x17", key="TS.AP"),
    V("TSPINE", "LAT", "胸椎侧位", "T-spine LAT", "TSPINE_LAT", 0, "7x17", key="TS.LAT"),
    V("TSPINE", "AP", "胸腰段前后位", "Thoracolumbar junction AP", "LSPINE_AP", 0, "10x12", key="TS.TLAP"),
    V("TSPINE", "LAT", "胸腰段侧位", "Thoracolumbar junction LAT", "LSPINE_LAT", 0, "10x12", key="TS.TLLAT"),
    # LUMBAR SPINE
    V("LSPINE", "AP", "腰椎前后位", "L-spine AP", "LSPINE_AP", 0, "14x17", key="LS.AP"),
    V("LSPINE", "LAT", "腰椎侧位", "L-spine LAT", "LSPINE_LAT", 0, "14x17", key="LS.LAT"),
    V("LSPINE", "OBL", "腰椎左后斜位", "L-spine OBL, LPO", "LSPINE_OBL", 0, "11x14", "L", key="LS.OBL.L"),
    V("LSPINE", "OBL", "腰椎右后斜位", "L-spine OBL, RPO", "LSPINE_OBL", 0, "11x14", "R", key="LS.OBL.R"),
    V("LSPINE", "LAT", "腰骶关节侧位", "L5-S1 spot LAT", "L5S1_LAT", 0, "8x10", key="LS.L5S1LAT"),
    V("LSPINE", "AP", "腰骶关节前后轴位", "L5-S1 AP Axial (Ferguson)", "L5S1_AXIAL", 0, "8x10", angle=30,
      key="LS.L5S1AP", extra={"id_pos": "Axial"}),
    V("LSPINE", "LAT", "腰椎过屈侧位", "L-spine LAT flexion", "LSPINE_LAT", 1, "14x17", key="LS.FLEX"),
    V("LSPINE", "LAT", "腰椎过伸侧位", "L-spine LAT extension", "LSPINE_LAT", 1, "14x17", key="LS.EXT"),
    # SACRUM, COCCYX, SI JOINTS
    V("SACRUM", "AP", "骶骨前后轴位", "Sacrum AP Axial", "SACRUM_AP", 0, "10x12", angle=15, key="SC.SAP"),
    V("SACRUM", "LAT", "骶骨侧位", "Sacrum LAT", "SACRUM_LAT", 0, "10x12", key="SC.SLAT"),
    V("SACRUM", "AP", "尾骨前后轴位", "Coccyx AP Axial", "COCCYX_AP", 0, "8x10", angle=-10, key="SC.CAP"),
    V("SACRUM", "LAT", "尾骨侧位", "Coccyx LAT", "COCCYX_LAT", 0, "8x10", key="SC.CLAT"),
    V("SACRUM", "Axial", "骶髂关节前后轴位", "SI joints AP Axial", "SI_AP", 0, "10x12", angle=30, key="SC.SIAP"),
    *sided("SACRUM", "OBL", "{s}骶髂关节斜位", "SI joint OBL,{side}", "SI_OBL", 0, "8x10", "SC.SIOBL"),
    # CHEST
    V("CHEST", "PA", "胸部后前位", "Chest PA", "CHEST_PA", 1, "17x17", key="CH.PA"),
    V("CHEST", "LAT", "胸部左侧位", "Chest LAT,left", "CHEST_LAT", 1, "14x17", key="CH.LAT"),
    V("CHEST", "AP", "胸部仰卧前后位", "Chest AP supine", "CHEST_AP", 0, "17x17", key="CH.AP"),
    V("CHEST", "AP", "胸部前弓位", "Chest AP lordotic", "CHEST_LORDOTIC", 1, "14x17", angle=15, key="CH.LORD"),
    V("CHEST", "AP", "胸部左侧卧水平位", "Chest AP left lateral decubitus", "CHEST_DECUB", 1, "17x14", "L",
      key="CH.DECUB.L"),
    V("CHEST", "AP", "胸部右侧卧水平位", "Chest AP right lateral decubitus", "CHEST_DECUB", 1, "17x14", "R",
      key="CH.DECUB.R"),
    V("CHEST", "OBL", "胸部右前斜位", "Chest PA OBL, RAO", "CHEST_OBL", 1, "14x17", "R", key="CH.RAO"),
    V("CHEST", "OBL", "胸部左前斜位", "Chest PA OBL, LAO", "CHEST_OBL", 1, "14x17", "L", key="CH.LAO"),
    V("CHEST", "PA", "胸部呼气相后前位", "Chest PA expiration", "CHEST_PA", 1, "17x17", key="CH.PAEXP"),
    V("CHEST", "OBL", "胸骨右前斜位", "Sternum OBL, RAO", "STERNUM_OBL", 0, "10x12", "R", key="CH.STOBL"),
    V("CHEST", "LAT", "胸骨侧位", "Sternum LAT", "STERNUM_LAT", 1, "10x12", key="CH.STLAT"),
    # RIBS
    V("RIBS", "AP", "上部肋骨前后位（膈上）", "Ribs AP above diaphragm", "RIBS_UPPER", 1, "14x17", key="RB.UAP"),
    V("RIBS", "AP", "下部肋骨前后位（膈下）", "Ribs AP below diaphragm", "RIBS_LOWER", 0, "14x17", key="RB.LAP"),
    V("RIBS", "PA", "前肋后前位", "Ribs PA (anterior ribs)", "RIBS_UPPER", 1, "14x17", key="RB.PA"),
    *sided("RIBS", "OBL", "{s}侧肋骨斜位", "Ribs OBL,{side}", "RIBS_OBL", 1, "14x17", "RB.OBL"),
    # ABDOMEN
    V("ABDOMEN", "AP", "腹部仰卧前后位（KUB）", "Abdomen AP supine (KUB)", "ABDOMEN_AP", 0, "14x17", key="AB.AP"),
    V("ABDOMEN", "AP", "腹部立位前后位", "Abdomen AP erect", "ABDOMEN_AP", 1, "14x17", key="AB.ERECT"),
    V("ABDOMEN", "AP", "腹部左侧卧水平位", "Abdomen AP left lateral decubitus", "ABDOMEN_DECUB", 1, "17x14", "L",
      key="AB.DECUB"),
    V("ABDOMEN", "LAT", "腹部侧位", "Abdomen LAT", "ABDOMEN_LAT", 0, "14x17", key="AB.LAT"),
    V("ABDOMEN", "PA", "腹部俯卧后前位", "Abdomen PA prone", "ABDOMEN_AP", 0, "14x17", key="AB.PA"),
    # PELVIS
    V("PELVIS", "AP", "骨盆前后位", "Pelvis AP", "PELVIS_AP", 0, "17x14", key="PV.AP"),
    V("PELVIS", "Axial", "骨盆入口位", "Pelvis inlet", "PELVIS_AXIAL", 0, "17x14", angle=-40, key="PV.INLET"),
    V("PELVIS", "Axial", "骨盆出口位", "Pelvis outlet", "PELVIS_AXIAL", 0, "17x14", angle=40, key="PV.OUTLET"),
    V("PELVIS", "OBL", "髋臼Judet位，左后斜", "Acetabulum Judet, LPO", "PELVIS_JUDET", 0, "14x14", "L",
      key="PV.JUDET.L"),
    V("PELVIS", "OBL", "髋臼Judet位，右后斜", "Acetabulum Judet, RPO", "PELVIS_JUDET", 0, "14x14", "R",
      key="PV.JUDET.R"),
    V("PELVIS", "AP", "双髋蛙式位", "Bilateral hips frog-leg (modified Cleaves)", "HIP_FROG", 0, "17x14", "B",
      key="PV.FROG"),
    # HIP
    *sided("HIP", "AP", "{s}髋关节前后位", "Hip AP,{side}", "HIP_AP", 0, "10x12", "HP.AP"),
    *sided("HIP", "LAT", "{s}髋关节蛙式侧位", "Hip frog-leg LAT (Lauenstein),{side}", "HIP_FROG", 0, "10x12",
           "HP.FROG"),
    *sided("HIP", "LAT", "{s}髋关节水平侧位", "Hip axiolateral (Danelius-Miller),{side}", "HIP_AXIOLAT", 1,
           "10x12", "HP.AXLAT"),
    # SHOULDER
    *sided("SHOULDER", "AP", "{s}肩关节前后位", "Shoulder AP,{side}", "SHOULDER_AP", 1, "10x12", "SH.AP"),
    *sided("SHOULDER", "OBL", "{s}肩关节Grashey位", "Shoulder Grashey (true AP),{side}", "SHOULDER_GRASHEY", 1,
           "10x12", "SH.GRASHEY"),
    *sided("SHOULDER", "LAT", "{s}肩胛骨Y位", "Shoulder scapular Y,{side}", "SHOULDER_Y", 1, "10x12", "SH.Y"),
    *sided("SHOULDER", "Axial", "{s}肩关节腋位", "Shoulder axillary,{side}", "SHOULDER_AXILLARY", 0, "8x10",
           "SH.AXILLARY"),
    # CLAVICLE
    *sided("CLAVICLE", "AP", "{s}锁骨前后位", "Clavicle AP,{side}", "CLAVICLE", 1, "10x12", "CL.AP"),
    *sided("CLAVICLE", "AP", "{s}锁骨前后轴位", "Clavicle AP Axial,{side}", "CLAVICLE", 1, "10x12", "CL.AX",
           angle=20),
    V("CLAVICLE", "AP", "双侧肩锁关节前后位", "Bilateral AC joints AP", "AC_JOINTS", 1, "17x14", "B", key="CL.AC"),
    # SCAPULA
    *sided("SCAPULA", "AP", "{s}肩胛骨前后位", "Scapula AP,{side}", "SCAPULA_AP", 1, "10x12", "SP.AP"),
    *sided("SCAPULA", "LAT", "{s}肩胛骨侧位", "Scapula LAT,{side}", "SCAPULA_LAT", 1, "10x12", "SP.LAT"),
    # HUMERUS
    *sided("HUMERUS", "AP", "{s}肱骨前后位", "Humerus AP,{side}", "HUMERUS", 0, "14x17", "HU.AP"),
    *sided("HUMERUS", "LAT", "{s}肱骨侧位", "Humerus LAT,{side}", "HUMERUS", 0, "14x17", "HU.LAT"),
    *sided("HUMERUS", "LAT", "{s}肱骨穿胸侧位", "Humerus transthoracic LAT,{side}", "HUMERUS_TRANSTHORACIC", 1,
           "14x17", "HU.TT"),
    # ELBOW
    *sided("ELBOW", "AP", "{s}肘关节前后位", "Elbow AP,{side}", "ELBOW", 0, "8x10", "EL.AP"),
    *sided("ELBOW", "LAT", "{s}肘关节侧位", "Elbow LAT,{side}", "ELBOW_LAT", 0, "8x10", "EL.LAT"),
    *sided("ELBOW", "OBL", "{s}肘关节内斜位", "Elbow medial OBL,{side}", "ELBOW", 0, "8x10", "EL.OBL"),
    *sided("ELBOW", "LAT", "{s}桡骨头Coyle位", "Radial head Coyle,{side}", "ELBOW_LAT", 0, "8x10", "EL.COYLE",
           angle=45),
    # FOREARM
    *sided("FOREARM", "AP", "{s}尺桡骨前后位", "Forearm AP,{side}", "FOREARM", 0, "11x14", "FA.AP"),
    *sided("FOREARM", "LAT", "{s}尺桡骨侧位", "Forearm LAT,{side}", "FOREARM", 0, "11x14", "FA.LAT"),
    # WRIST
    *sided("WRIST", "PA", "{s}腕关节后前位", "Wrist PA,{side}", "WRIST", 0, "8x10", "WR.PA"),
    *sided("WRIST", "LAT", "{s}腕关节侧位", "Wrist LAT,{side}", "WRIST_LAT", 0, "8x10", "WR.LAT"),
    *sided("WRIST", "OBL", "{s}腕关节斜位", "Wrist OBL,{side}", "WRIST", 0, "8x10", "WR.OBL"),
    *sided("WRIST", "PA", "{s}腕舟骨位（尺偏）", "Scaphoid PA ulnar deviation,{side}", "WRIST", 0, "8x10", "WR.SCAPH",
           angle=15),
    *sided("WRIST", "Axial", "{s}腕管位", "Carpal tunnel (Gaynor-Hart),{side}", "CARPAL_TUNNEL", 0, "8x10",
           "WR.TUNNEL", angle=30),
    # HAND and FINGERS — HD_OBL_01 is the reference's "右手斜位"
    *sided("HAND", "PA", "{s}手后前位", "Hand PA,{side}", "HAND", 0, "10x12", "HD.PA"),
    *sided("HAND", "OBL", "{s}手斜位", "Hand OBL,{side}", "HAND", 0, "10x12", "HD.OBL"),
    *sided("HAND", "LAT", "{s}手侧位", "Hand LAT,{side}", "HAND_LAT", 0, "10x12", "HD.LAT"),
    *sided("HAND", "PA", "{s}手指后前位", "Fingers PA,{side}", "FINGER", 0, "6x8", "HD.FPA"),
    *sided("HAND", "LAT", "{s}手指侧位", "Fingers LAT,{side}", "FINGER", 0, "6x8", "HD.FLAT"),
    *sided("HAND", "AP", "{s}拇指前后位", "Thumb AP,{side}", "FINGER", 0, "6x8", "HD.TAP"),
    *sided("HAND", "LAT", "{s}拇指侧位", "Thumb LAT,{side}", "FINGER", 0, "6x8", "HD.TLAT"),
    V("HAND", "PA", "双手后前位（骨龄）", "Both hands PA (bone age)", "BONE_AGE", 0, "14x17", "B", key="HD.BONEAGE"),
    # FEMUR
    *sided("FEMUR", "AP", "{s}股骨前后位", "Femur AP,{side}", "FEMUR", 0, "14x17", "FE.AP"),
    *sided("FEMUR", "LAT", "{s}股骨侧位", "Femur LAT,{side}", "FEMUR", 0, "14x17", "FE.LAT"),
    # KNEE
    *sided("KNEE", "AP", "{s}膝关节前后位", "Knee AP,{side}", "KNEE_AP", 0, "8x10", "KN.AP", angle=5),
    *sided("KNEE", "LAT", "{s}膝关节侧位", "Knee LAT,{side}", "KNEE_LAT", 0, "8x10", "KN.LAT", angle=5),
    *sided("KNEE", "OBL", "{s}膝关节内斜位", "Knee medial OBL,{side}", "KNEE_AP", 0, "8x10", "KN.OBL"),
    *sided("KNEE", "PA", "{s}膝关节髁间窝位", "Knee intercondylar fossa (Camp-Coventry),{side}", "KNEE_TUNNEL", 0,
           "8x10", "KN.TUNNEL", angle=-40),
    V("KNEE", "AP", "双膝负重前后位", "Bilateral knees AP weight-bearing", "KNEE_STANDING", 1, "17x14", "B",
      key="KN.STANDING"),
    # PATELLA
    *sided("PATELLA", "PA", "{s}髌骨后前位", "Patella PA,{side}", "PATELLA_PA", 0, "8x10", "PT.PA"),
    *sided("PATELLA", "LAT", "{s}髌骨侧位", "Patella LAT,{side}", "KNEE_LAT", 0, "8x10", "PT.LAT"),
    V("PATELLA", "Axial", "双侧髌骨轴位（Merchant位）", "Bilateral patellae Merchant (skyline)", "PATELLA_AXIAL", 0,
      "17x14", "B", angle=-30, key="PT.MERCHANT"),
    *sided("PATELLA", "Axial", "{s}髌骨切线位（Settegast位）", "Patella skyline (Settegast),{side}", "PATELLA_AXIAL", 0,
           "8x10", "PT.SKYLINE", angle=15),
    # TIBIA / FIBULA
    *sided("TIBIA", "AP", "{s}胫腓骨前后位", "Tibia/fibula AP,{side}", "TIBIA", 0, "14x17", "TB.AP"),
    *sided("TIBIA", "LAT", "{s}胫腓骨侧位", "Tibia/fibula LAT,{side}", "TIBIA", 0, "14x17", "TB.LAT"),
    # ANKLE
    *sided("ANKLE", "AP", "{s}踝关节前后位", "Ankle AP,{side}", "ANKLE", 0, "8x10", "AN.AP"),
    *sided("ANKLE", "OBL", "{s}踝穴位", "Ankle mortise (15° internal),{side}", "ANKLE", 0, "8x10", "AN.MORTISE"),
    *sided("ANKLE", "LAT", "{s}踝关节侧位", "Ankle LAT,{side}", "ANKLE_LAT", 0, "8x10", "AN.LAT"),
    # FOOT and TOES
    *sided("FOOT", "AP", "{s}足前后位", "Foot AP (dorsoplantar),{side}", "FOOT", 0, "10x12", "FT.AP", angle=10),
    *sided("FOOT", "OBL", "{s}足内斜位", "Foot medial OBL,{side}", "FOOT", 0, "10x12", "FT.OBL"),
    *sided("FOOT", "LAT", "{s}足侧位", "Foot LAT,{side}", "FOOT_LAT", 0, "10x12", "FT.LAT"),
    *sided("FOOT", "LAT", "{s}足负重侧位", "Foot LAT weight-bearing,{side}", "FOOT_LAT", 1, "10x12", "FT.WBLAT"),
    *sided("FOOT", "AP", "{s}足趾前后位", "Toes AP,{side}", "TOES", 0, "6x8", "FT.TOES", angle=15),
    # CALCANEUS
    *sided("CALCANEUS", "Axial", "{s}跟骨轴位（Harris位）", "Calcaneus axial (Harris),{side}", "CALC_AXIAL", 0, "8x10",
           "CA.AXIAL", angle=40),
    *sided("CALCANEUS", "LAT", "{s}跟骨侧位", "Calcaneus LAT,{side}", "CALC_LAT", 0, "8x10", "CA.LAT"),
    # stitching (disabled until stitching acquisition exists)
    V("WHOLE SPINE", "AP", "全脊柱站立前后位", "Whole spine AP standing", "WHOLE_SPINE_AP", 1, "14x17",
      key="WS.AP", enabled=False),
    V("WHOLE SPINE", "LAT", "全脊柱站立侧位", "Whole spine LAT standing", "WHOLE_SPINE_LAT", 1, "14x17",
      key="WS.LAT", enabled=False),
    V("LONG LEG", "AP", "双下肢全长站立前后位", "Bilateral long leg AP standing", "LONG_LEG", 1, "17x14", "B",
      key="LL.AP", enabled=False),
    *sided("LONG LEG", "AP", "{s}下肢全长站立前后位", "Long leg AP standing,{side}", "LONG_LEG", 1, "14x17",
           "LL.AP1", ),
]
# the sided long-leg views are disabled like their body part
VIEWS = [
    (ViewDef(**{**v.__dict__, "enabled": False}) if v.part in ("WHOLE SPINE", "LONG LEG") else v) for v in VIEWS
]

# Multi-view routine series: (zh, en, [view keys], type, category, fast_search)
# "{s}"/"{side}" series expand into left and right procedures over the ".L"/".R" view keys.
SERIES = [
    # the reference's P0-0001..P0-0004 come first, in its order
    ("颅骨汤氏位", "Skull Townes View", ["SK.TOWNE"], "NORMAL", "Adult", False),
    ("颅骨前后位 + 侧位", "Skull AP + LAT", ["SK.AP", "SK.LAT.L"], "NORMAL", "Adult", True),
    ("颅骨后前位 + 侧位", "Skull PA + LAT", ["SK.PA", "SK.LAT.L"], "NORMAL", "Adult", False),
    ("颅骨前后位", "Skull AP", ["SK.AP"], "NORMAL", "Adult", False),
    ("颅骨常规（后前 + 侧位 + 汤氏位）", "Skull routine (PA + LAT + Towne)", ["SK.PA", "SK.LAT.L", "SK.TOWNE"], "NORMAL",
     "Adult", False),
    ("颅骨外伤（前后 + 侧位 + 汤氏位）", "Skull trauma (AP + LAT + Towne)", ["SK.AP", "SK.LAT.L", "SK.TOWNE"],
     "EMERGENCY", "Adult", False),
    ("面骨常规", "Facial bones routine (Waters + Caldwell + LAT)", ["FB.WATERS", "FB.CALDWELL", "FB.LAT"], "NORMAL",
     "Adult", False),
    ("眼眶（瓦氏位 + 双侧Rhese位）", "Orbits (Waters + Rhese bilateral)", ["FB.WATERS", "FB.RHESE.L", "FB.RHESE.R"],
     "NORMAL", "Adult", False),
    ("鼻骨（侧位 + 瓦氏位）", "Nasal bones (LAT + Waters)", ["FB.NASAL", "FB.WATERS"], "NORMAL", "Adult", False),
    ("鼻窦常规", "Sinus series (Caldwell + Waters + LAT + SMV)", ["SN.CALDWELL", "SN.WATERS", "SN.LAT", "SN.SMV"],
     "NORMAL", "Adult", True),
    ("下颌骨常规", "Mandible routine (PA + PA axial + OBL bilateral)", ["MD.PA", "MD.PAAX", "MD.OBL.L", "MD.OBL.R"],
     "NORMAL", "Adult", False),
    ("{s}颞下颌关节（闭口 + 张口）", "TMJ closed + open mouth,{side}", ["MD.TMJC", "MD.TMJO"], "NORMAL", "Adult", False),
    ("颈椎正侧位", "C-spine AP + LAT", ["CS.AP", "CS.LAT"], "NORMAL", "Adult", True),
    ("颈椎常规（正 + 侧 + 张口）", "C-spine routine (AP + LAT + odontoid)", ["CS.AP", "CS.LAT", "CS.ODONT"], "NORMAL",
     "Adult", False),
    ("颈椎五位", "C-spine five views (AP + LAT + odontoid + OBL bilateral)",
     ["CS.AP", "CS.LAT", "CS.ODONT", "CS.OBL.L", "CS.OBL.R"], "NORMAL", "Adult", False),
    ("颈椎动力位（过屈 + 过伸）", "C-spine flexion + extension", ["CS.FLEX", "CS.EXT"], "NORMAL", "Adult", False),
    ("颈椎外伤（水平侧位 + 正位 + 张口）", "C-spine trauma (cross-table LAT + AP + odontoid)",
     ["CS.XTABLE", "CS.AP", "CS.ODONT"], "EMERGENCY", "Adult", False),
    ("胸椎正侧位", "T-spine AP + LAT", ["TS.AP", "TS.LAT"], "NORMAL", "Adult", True),
    ("胸腰段正侧位", "Thoracolumbar AP + LAT", ["TS.TLAP", "TS.TLLAT"], "NORMAL", "Adult", False),
    ("腰椎正侧位", "L-spine AP + LAT", ["LS.AP", "LS.LAT"], "NORMAL", "Adult", True),
    ("腰椎常规（正 + 侧 + 腰骶侧位）", "L-spine routine (AP + LAT + L5-S1 LAT)", ["LS.AP", "LS.LAT", "LS.L5S1LAT"],
     "NORMAL", "Adult", False),
    ("腰椎双斜位", "L-spine obliques (LPO + RPO)", ["LS.OBL.L", "LS.OBL.R"], "NORMAL", "Adult", False),
    ("腰椎五位", "L-spine five views", ["LS.AP", "LS.LAT", "LS.OBL.L", "LS.OBL.R", "LS.L5S1LAT"], "NORMAL", "Adult",
     False),
    ("腰椎动力位（过屈 + 过伸）", "L-spine flexion + extension", ["LS.FLEX", "LS.EXT"], "NORMAL", "Adult", False),
    ("骶骨正侧位", "Sacrum AP + LAT", ["SC.SAP", "SC.SLAT"], "NORMAL", "Adult", False),
    ("尾骨正侧位", "Coccyx AP + LAT", ["SC.CAP", "SC.CLAT"], "NORMAL", "Adult", False),
    ("骶髂关节（轴位 + 双斜位）", "SI joints (AP axial + OBL bilateral)", ["SC.SIAP", "SC.SIOBL.L", "SC.SIOBL.R"],
     "NORMAL", "Adult", False),
    ("胸部正侧位", "Chest PA + LAT", ["CH.PA", "CH.LAT"], "NORMAL", "Adult", True),
    ("胸部床旁（仰卧前后位）", "Chest AP supine (bedside/trauma)", ["CH.AP"], "EMERGENCY", "Adult", True),
    ("气胸（吸气 + 呼气后前位）", "Pneumothorax (PA inspiration + expiration)", ["CH.PA", "CH.PAEXP"], "EMERGENCY",
     "Adult", False),
    ("心脏三位（后前 + 双斜位）", "Cardiac series (PA + RAO + LAO)", ["CH.PA", "CH.RAO", "CH.LAO"], "NORMAL", "Adult",
     False),
    ("胸腔积液（后前 + 双侧卧水平位）", "Pleural effusion (PA + decubitus bilateral)",
     ["CH.PA", "CH.DECUB.L", "CH.DECUB.R"], "NORMAL", "Adult", False),
    ("胸骨（斜位 + 侧位）", "Sternum (RAO + LAT)", ["CH.STOBL", "CH.STLAT"], "NORMAL", "Adult", False),
    ("儿童胸部后前位", "Paediatric chest PA", ["CH.PA"], "NORMAL", "Paediatric", False),
    ("肋骨（膈上 + 膈下）", "Ribs (above + below diaphragm)", ["RB.UAP", "RB.LAP"], "NORMAL", "Adult", False),
    ("{s}侧肋骨（正位 + 斜位 + 胸部后前位）", "Ribs,{side} (AP + OBL + chest PA)", ["RB.UAP", "RB.OBL", "CH.PA"],
     "NORMAL", "Adult", False),
    ("腹部平片（KUB）", "Abdomen KUB", ["AB.AP"], "NORMAL", "Adult", True),
    ("急腹症（仰卧 + 立位 + 胸部后前位）", "Acute abdomen (supine + erect + chest PA)", ["AB.AP", "AB.ERECT", "CH.PA"],
     "EMERGENCY", "Adult", True),
    ("腹部（仰卧 + 左侧卧水平位）", "Abdomen (supine + left decubitus)", ["AB.AP", "AB.DECUB"], "EMERGENCY", "Adult",
     False),
    ("骨盆前后位", "Pelvis AP", ["PV.AP"], "NORMAL", "Adult", True),
    ("骨盆创伤（前后 + 入口 + 出口）", "Pelvis trauma (AP + inlet + outlet)", ["PV.AP", "PV.INLET", "PV.OUTLET"],
     "EMERGENCY", "Adult", False),
    ("髋臼Judet双斜位", "Acetabulum Judet views (LPO + RPO)", ["PV.JUDET.L", "PV.JUDET.R"], "NORMAL", "Adult", False),
    ("儿童双髋（前后 + 蛙式位）", "Paediatric hips (AP + frog-leg)", ["PV.AP", "PV.FROG"], "NORMAL", "Paediatric",
     False),
    ("{s}髋关节（骨盆正位 + 髋正位 + 蛙式位）", "Hip,{side} (pelvis AP + hip AP + frog LAT)", ["PV.AP", "HP.AP", "HP.FROG"],
     "NORMAL", "Adult", True),
    ("{s}髋关节外伤（正位 + 水平侧位）", "Hip trauma,{side} (AP + axiolateral)", ["HP.AP", "HP.AXLAT"], "EMERGENCY",
     "Adult", False),
    ("{s}肩关节（前后位 + Y位）", "Shoulder,{side} (AP + scapular Y)", ["SH.AP", "SH.Y"], "NORMAL", "Adult", True),
    ("{s}肩关节外伤（Grashey + Y位 + 腋位）", "Shoulder trauma,{side} (Grashey + Y + axillary)",
     ["SH.GRASHEY", "SH.Y", "SH.AXILLARY"], "EMERGENCY", "Adult", False),
    ("{s}锁骨（正位 + 轴位）", "Clavicle,{side} (AP + AP axial)", ["CL.AP", "CL.AX"], "NORMAL", "Adult", False),
    ("{s}肩胛骨正侧位", "Scapula AP + LAT,{side}", ["SP.AP", "SP.LAT"], "NORMAL", "Adult", False),
    ("{s}肱骨正侧位", "Humerus AP + LAT,{side}", ["HU.AP", "HU.LAT"], "NORMAL", "Adult", True),
    ("{s}肘关节正侧位", "Elbow AP + LAT,{side}", ["EL.AP", "EL.LAT"], "NORMAL", "Adult", True),
    ("{s}肘关节（正 + 侧 + 斜位）", "Elbow routine,{side} (AP + LAT + OBL)", ["EL.AP", "EL.LAT", "EL.OBL"], "NORMAL",
     "Adult", False),
    ("{s}尺桡骨正侧位", "Forearm AP + LAT,{side}", ["FA.AP", "FA.LAT"], "NORMAL", "Adult", True),
    ("{s}腕关节正侧位", "Wrist PA + LAT,{side}", ["WR.PA", "WR.LAT"], "NORMAL", "Adult", True),
    ("{s}腕关节（正 + 侧 + 斜位）", "Wrist routine,{side} (PA + LAT + OBL)", ["WR.PA", "WR.LAT", "WR.OBL"], "NORMAL",
     "Adult", False),
    ("{s}腕舟骨系列", "Scaphoid series,{side}", ["WR.PA", "WR.SCAPH", "WR.OBL", "WR.LAT"], "NORMAL", "Adult", False),
    ("{s}手正斜位", "Hand PA + OBL,{side}", ["HD.PA", "HD.OBL"], "NORMAL", "Adult", True),
    ("{s}手（正 + 斜 + 侧位）", "Hand routine,{side} (PA + OBL + LAT)", ["HD.PA", "HD.OBL", "HD.LAT"], "NORMAL",
     "Adult", False),
    ("{s}手指正侧位", "Fingers PA + LAT,{side}", ["HD.FPA", "HD.FLAT"], "NORMAL", "Adult", False),
    ("{s}拇指正侧位", "Thumb AP + LAT,{side}", ["HD.TAP", "HD.TLAT"], "NORMAL", "Adult", False),
    ("{s}股骨正侧位", "Femur AP + LAT,{side}", ["FE.AP", "FE.LAT"], "NORMAL", "Adult", True),
    ("{s}膝关节正侧位", "Knee AP + LAT,{side}", ["KN.AP", "KN.LAT"], "NORMAL", "Adult", True),
    ("{s}膝关节（正 + 侧 + 髌骨轴位）", "Knee routine,{side} (AP + LAT + skyline)", ["KN.AP", "KN.LAT", "PT.SKYLINE"],
     "NORMAL", "Adult", False),
    ("{s}膝关节（正 + 侧 + 髁间窝位）", "Knee,{side} (AP + LAT + intercondylar)", ["KN.AP", "KN.LAT", "KN.TUNNEL"],
     "NORMAL", "Adult", False),
    ("{s}髌骨（侧位 + 切线位）", "Patella,{side} (LAT + skyline)", ["PT.LAT", "PT.SKYLINE"], "NORMAL", "Adult", False),
    ("{s}胫腓骨正侧位", "Tibia/fibula AP + LAT,{side}", ["TB.AP", "TB.LAT"], "NORMAL", "Adult", True),
    ("{s}踝关节（正 + 侧 + 踝穴位）", "Ankle routine,{side} (AP + mortise + LAT)", ["AN.AP", "AN.MORTISE", "AN.LAT"],
     "NORMAL", "Adult", True),
    ("{s}踝关节外伤（踝穴位 + 侧位）", "Ankle trauma,{side} (mortise + LAT)", ["AN.MORTISE", "AN.LAT"], "EMERGENCY",
     "Adult", False),
    ("{s}足（正 + 斜 + 侧位）", "Foot routine,{side} (AP + OBL + LAT)", ["FT.AP", "FT.OBL", "FT.LAT"], "NORMAL",
     "Adult", True),
    ("{s}足趾（正位 + 足斜位）", "Toes,{side} (AP + foot OBL)", ["FT.TOES", "FT.OBL"], "NORMAL", "Adult", False),
    ("{s}跟骨（侧位 + 轴位）", "Calcaneus,{side} (LAT + axial)", ["CA.LAT", "CA.AXIAL"], "NORMAL", "Adult", False),
    ("创伤系列（胸部 + 骨盆 + 颈椎侧位）", "Trauma series (chest AP + pelvis AP + C-spine LAT)",
     ["CH.AP", "PV.AP", "CS.XTABLE"], "EMERGENCY", "Adult", True),
    ("骨龄（双手后前位）", "Bone age (both hands PA)", ["HD.BONEAGE"], "NORMAL", "Paediatric", False),
    ("全脊柱站立正侧位（拼接）", "Whole spine AP + LAT standing (stitching)", ["WS.AP", "WS.LAT"], "NORMAL", "Adult",
     False),
    ("双下肢全长（拼接）", "Bilateral long leg (stitching)", ["LL.AP"], "NORMAL", "Adult", False),
]
