"""The VETDROS catalog source: species, body parts, views with their typical Medium-size thickness, procedures.

Exposures follow the veterinary "variable-kV" chart: Sante's rule kV = 2 × thickness(cm) + SID(inches) at
SID 100 cm (≈ 40 in), with a fixed mAs per region class, doubled-and-a-half (+4 R10 steps) when the part is
thicker than 10 cm and a grid is used. This is the rule behind the fixed-mAs technique charts of the veterinary
radiography textbooks (Lavin's "Radiography in Veterinary Technology", Thrall's "Textbook of Veterinary
Diagnostic Radiology"): e.g. a 20 kg dog's thorax at 18 cm → 76 kV 5 mAs, a cat's thorax at 10 cm → 60 kV
2.5 mAs table-top.
"""

from __future__ import annotations

from dataclasses import dataclass

# region class → (mAs table-top, mAs with grid), SID 100 cm
MAS_CLASS = {
    "THORAX": (2.5, 5),  # short time beats motion; lungs need little mAs
    "ABDOMEN": (4, 10),
    "BONE": (5, 12.5),  # pelvis, spine, skull
    "LIMB": (2.5, 6.3),
    "DENTAL": (2, 5),
    "EXOTIC": (2.5, 5),  # whole-body birds, reptiles, small mammals: fine detail, small focus
}
GRID_ABOVE_CM = 10
# patient size → thickness factor (Small = toy breed / small cat, Large = giant breed, Paediatric = puppy/kitten/foal)
SIZE_THICKNESS = {"Small": 0.7, "Medium": 1.0, "Large": 1.35, "Paediatric": 0.55}

# (key, zh, en, enabled) — key is the patient_type_id
SPECIES = [
    ("Dog", "犬", "Dog", True),
    ("Cat", "猫", "Cat", True),
    ("Rabbit", "兔及小型哺乳动物", "Rabbit / small mammal", True),
    ("Bird", "鸟类", "Bird", True),
    ("Reptile", "爬行动物", "Reptile", True),
    ("Equine", "马（四肢及头颈）", "Equine (limbs, head and neck)", True),
]
SPECIES_CODE = {"Dog": "DOG", "Cat": "CAT", "Rabbit": "RAB", "Bird": "BRD", "Reptile": "REP", "Equine": "EQU"}

# body parts per species: (key, zh, en)
PART_NAMES = {
    "THORAX": ("胸部", "Thorax"),
    "ABDOMEN": ("腹部", "Abdomen"),
    "PELVIS": ("骨盆及髋关节", "Pelvis and hips"),
    "CSPINE": ("颈椎", "Cervical spine"),
    "TSPINE": ("胸椎", "Thoracic spine"),
    "LSPINE": ("腰椎", "Lumbar spine"),
    "SPINE": ("脊柱", "Spine"),
    "SKULL": ("头颅", "Skull"),
    "DENTAL": ("牙齿", "Dental"),
    "FORELIMB": ("前肢", "Forelimb"),
    "HINDLIMB": ("后肢", "Hindlimb"),
    "TAIL": ("尾椎", "Tail"),
    "WHOLE BODY": ("全身", "Whole body"),
    "WING": ("翼", "Wing"),
    "LEG": ("腿", "Leg"),
    "SHELL": ("背甲及体腔", "Shell and coelom"),
    "FOOT": ("蹄部", "Foot"),
    "FETLOCK": ("球节", "Fetlock"),
    "CARPUS": ("腕关节", "Carpus"),
    "TARSUS": ("跗关节", "Tarsus"),
    "STIFLE": ("膝关节", "Stifle"),
    "HEAD": ("头部", "Head"),
    "NECK": ("颈部", "Neck"),
    "LIMB": ("四肢", "Limbs"),
}

# DICOM quadruped orientation letters per view position: (row, column)
VET_POSITIONS = {"LAT", "VD", "DV", "CrCd", "CdCr", "DPa", "DPl", "ML", "LM", "OBL", "Axial", "RCd"}


@dataclass(frozen=True)
class VetView:
    species: str
    part: str
    pos: str
    zh: str
    en: str
    thickness: float  # Medium, cm
    cls: str  # MAS_CLASS key
    fmt: str
    ws: int = 0
    angle: int = 0
    key: str = ""
    lat: str = "U"


def _views() -> list[VetView]:
    out: list[VetView] = []

    def add(species, part, pos, zh, en, t, cls, fmt, ws=0, angle=0, key="", lat="U"):
        out.append(VetView(species, part, pos, zh, en, t, cls, fmt, ws, angle, key, lat))

    # ---- Dog (Medium = 20 kg) ----
    d = "Dog"
    add(d, "THORAX", "LAT", "犬胸部右侧位", "Dog thorax right LAT", 18, "THORAX", "17x14", key="TH.RL", lat="R")
    add(d, "THORAX", "LAT", "犬胸部左侧位", "Dog thorax left LAT", 18, "THORAX", "17x14", key="TH.LL", lat="L")
    add(d, "THORAX", "VD", "犬胸部腹背位", "Dog thorax VD", 20, "THORAX", "14x17", key="TH.VD")
    add(d, "THORAX", "DV", "犬胸部背腹位", "Dog thorax DV", 20, "THORAX", "14x17", key="TH.DV")
    add(d, "ABDOMEN", "LAT", "犬腹部右侧位", "Dog abdomen right LAT", 18, "ABDOMEN", "17x14", key="AB.RL", lat="R")
    add(d, "ABDOMEN", "LAT", "犬腹部左侧位", "Dog abdomen left LAT", 18, "ABDOMEN", "17x14", key="AB.LL", lat="L")
    add(d, "ABDOMEN", "VD", "犬腹部腹背位", "Dog abdomen VD", 20, "ABDOMEN", "14x17", key="AB.VD")
    add(d, "PELVIS", "VD", "犬髋关节伸展腹背位", "Dog hips VD extended-leg (OFA)", 14, "BONE", "14x17", key="PV.VDEXT")
    add(d, "PELVIS", "VD", "犬髋关节蛙腿腹背位", "Dog hips VD frog-leg", 14, "BONE", "14x17", key="PV.VDFROG")
    add(d, "PELVIS", "LAT", "犬骨盆侧位", "Dog pelvis LAT", 16, "BONE", "14x17", key="PV.LAT")
    add(d, "CSPINE", "LAT", "犬颈椎侧位", "Dog C-spine LAT", 12, "BONE", "14x17", key="CS.LAT")
    add(d, "CSPINE", "VD", "犬颈椎腹背位", "Dog C-spine VD", 11, "BONE", "14x17", key="CS.VD")
    add(d, "TSPINE", "LAT", "犬胸椎侧位", "Dog T-spine LAT", 17, "BONE", "14x17", key="TS.LAT")
    add(d, "TSPINE", "VD", "犬胸椎腹背位", "Dog T-spine VD", 19, "BONE", "14x17", key="TS.VD")
    add(d, "LSPINE", "LAT", "犬腰椎侧位", "Dog L-spine LAT", 14, "BONE", "14x17", key="LS.LAT")
    add(d, "LSPINE", "VD", "犬腰椎腹背位", "Dog L-spine VD", 15, "BONE", "14x17", key="LS.VD")
    add(d, "SKULL", "LAT", "犬头颅侧位", "Dog skull LAT", 10, "BONE", "10x12", key="SK.LAT")
    add(d, "SKULL", "DV", "犬头颅背腹位", "Dog skull DV", 11, "BONE", "10x12", key="SK.DV")
    add(d, "SKULL", "RCd", "犬额窦吻尾位", "Dog frontal sinus rostrocaudal", 8, "BONE", "8x10", angle=10, key="SK.RCD")
    add(d, "SKULL", "RCd", "犬鼓泡张口吻尾位", "Dog tympanic bullae open-mouth rostrocaudal", 11, "BONE", "8x10",
        angle=-20, key="SK.BULLA")
    add(d, "SKULL", "OBL", "犬颞下颌关节侧斜位", "Dog TMJ lateral OBL", 10, "BONE", "8x10", angle=20, key="SK.TMJ")
    add(d, "DENTAL", "DV", "犬上颌咬合位", "Dog maxilla occlusal DV", 3, "DENTAL", "6x8", key="DE.MAXOCC")
    add(d, "DENTAL", "VD", "犬下颌咬合位", "Dog mandible occlusal VD", 3, "DENTAL", "6x8", key="DE.MANOCC")
    add(d, "DENTAL", "OBL", "犬左上颌侧斜位", "Dog maxilla lateral OBL, left", 4, "DENTAL", "6x8", key="DE.MAXOBL.L",
        lat="L")
    add(d, "DENTAL", "OBL", "犬右上颌侧斜位", "Dog maxilla lateral OBL, right", 4, "DENTAL", "6x8", key="DE.MAXOBL.R",
        lat="R")
    add(d, "DENTAL", "OBL", "犬左下颌侧斜位", "Dog mandible lateral OBL, left", 4, "DENTAL", "6x8", key="DE.MANOBL.L",
        lat="L")
    add(d, "DENTAL", "OBL", "犬右下颌侧斜位", "Dog mandible lateral OBL, right", 4, "DENTAL", "6x8",
        key="DE.MANOBL.R", lat="R")
    limb = [
        ("FORELIMB", "ML", "犬肩关节内外侧位", "Dog shoulder ML", 10, "8x10", "FL.SHML"),
        ("FORELIMB", "CdCr", "犬肩关节后前位", "Dog shoulder CdCr", 11, "8x10", "FL.SHCDCR"),
        ("FORELIMB", "ML", "犬肱骨内外侧位", "Dog humerus ML", 6, "10x12", "FL.HUML"),
        ("FORELIMB", "CrCd", "犬肱骨前后位", "Dog humerus CrCd", 7, "10x12", "FL.HUCRCD"),
        ("FORELIMB", "ML", "犬肘关节伸展内外侧位", "Dog elbow extended ML", 5, "8x10", "FL.ELML"),
        ("FORELIMB", "ML", "犬肘关节屈曲内外侧位", "Dog elbow flexed ML", 5, "8x10", "FL.ELFLEX"),
        ("FORELIMB", "CrCd", "犬肘关节前后位", "Dog elbow CrCd", 5, "8x10", "FL.ELCRCD"),
        ("FORELIMB", "ML", "犬桡尺骨内外侧位", "Dog radius/ulna ML", 4, "10x12", "FL.RUML"),
        ("FORELIMB", "CrCd", "犬桡尺骨前后位", "Dog radius/ulna CrCd", 4, "10x12", "FL.RUCRCD"),
        ("FORELIMB", "DPa", "犬腕关节背掌位", "Dog carpus DPa", 3, "8x10", "FL.CADPA"),
        ("FORELIMB", "ML", "犬腕关节内外侧位", "Dog carpus ML", 3, "8x10", "FL.CAML"),
        ("FORELIMB", "DPa", "犬前爪背掌位", "Dog manus DPa", 2.5, "8x10", "FL.MADPA"),
        ("FORELIMB", "ML", "犬前爪内外侧位", "Dog manus ML", 2.5, "8x10", "FL.MAML"),
        ("HINDLIMB", "ML", "犬股骨内外侧位", "Dog femur ML", 8, "10x12", "HL.FEML"),
        ("HINDLIMB", "CrCd", "犬股骨前后位", "Dog femur CrCd", 9, "10x12", "HL.FECRCD"),
        ("HINDLIMB", "ML", "犬膝关节内外侧位", "Dog stifle ML", 6, "8x10", "HL.STML"),
        ("HINDLIMB", "CdCr", "犬膝关节后前位", "Dog stifle CdCr", 7, "8x10", "HL.STCDCR"),
        ("HINDLIMB", "ML", "犬胫腓骨内外侧位", "Dog tibia/fibula ML", 4, "10x12", "HL.TIML"),
        ("HINDLIMB", "CdCr", "犬胫腓骨后前位", "Dog tibia/fibula CdCr", 4, "10x12", "HL.TICDCR"),
        ("HINDLIMB", "DPl", "犬跗关节背跖位", "Dog tarsus DPl", 3.5, "8x10", "HL.TADPL"),
        ("HINDLIMB", "ML", "犬跗关节内外侧位", "Dog tarsus ML", 3.5, "8x10", "HL.TAML"),
        ("HINDLIMB", "DPl", "犬后爪背跖位", "Dog pes DPl", 3, "8x10", "HL.PEDPL"),
        ("HINDLIMB", "ML", "犬后爪内外侧位", "Dog pes ML", 3, "8x10", "HL.PEML"),
    ]
    for part, pos, zh, en, t, fmt, key in limb:
        add(d, part, pos, zh, en, t, "LIMB", fmt, key=key)
    add(d, "TAIL", "LAT", "犬尾椎侧位", "Dog tail LAT", 3, "LIMB", "14x17", key="TA.LAT")
    add(d, "TAIL", "VD", "犬尾椎腹背位", "Dog tail VD", 3, "LIMB", "14x17", key="TA.VD")

    # ---- Cat (Medium = 4 kg) ----
    c = "Cat"
    add(c, "THORAX", "LAT", "猫胸部右侧位", "Cat thorax right LAT", 10, "THORAX", "10x12", key="TH.RL", lat="R")
    add(c, "THORAX", "LAT", "猫胸部左侧位", "Cat thorax left LAT", 10, "THORAX", "10x12", key="TH.LL", lat="L")
    add(c, "THORAX", "VD", "猫胸部腹背位", "Cat thorax VD", 10, "THORAX", "10x12", key="TH.VD")
    add(c, "THORAX", "DV", "猫胸部背腹位", "Cat thorax DV", 10, "THORAX", "10x12", key="TH.DV")
    add(c, "ABDOMEN", "LAT", "猫腹部右侧位", "Cat abdomen right LAT", 9, "ABDOMEN", "10x12", key="AB.RL", lat="R")
    add(c, "ABDOMEN", "VD", "猫腹部腹背位", "Cat abdomen VD", 9, "ABDOMEN", "10x12", key="AB.VD")
    add(c, "PELVIS", "VD", "猫髋关节伸展腹背位", "Cat hips VD extended-leg", 8, "BONE", "10x12", key="PV.VDEXT")
    add(c, "PELVIS", "LAT", "猫骨盆侧位", "Cat pelvis LAT", 9, "BONE", "10x12", key="PV.LAT")
    add(c, "SPINE", "LAT", "猫脊柱侧位", "Cat spine LAT", 8, "BONE", "7x17", key="SP.LAT")
    add(c, "SPINE", "VD", "猫脊柱腹背位", "Cat spine VD", 8, "BONE", "7x17", key="SP.VD")
    add(c, "SKULL", "LAT", "猫头颅侧位", "Cat skull LAT", 6, "BONE", "8x10", key="SK.LAT")
    add(c, "SKULL", "DV", "猫头颅背腹位", "Cat skull DV", 6, "BONE", "8x10", key="SK.DV")
    add(c, "SKULL", "RCd", "猫鼓泡吻腹-尾背斜位", "Cat tympanic bullae rostroventral-caudodorsal OBL", 6, "BONE",
        "6x8", angle=10, key="SK.BULLA")
    add(c, "DENTAL", "DV", "猫上颌咬合位", "Cat maxilla occlusal DV", 2, "DENTAL", "6x8", key="DE.MAXOCC")
    add(c, "DENTAL", "VD", "猫下颌咬合位", "Cat mandible occlusal VD", 2, "DENTAL", "6x8", key="DE.MANOCC")
    for part, pos, zh, en, t, key in [
        ("FORELIMB", "ML", "猫肩关节内外侧位", "Cat shoulder ML", 5, "FL.SHML"),
        ("FORELIMB", "ML", "猫肱骨内外侧位", "Cat humerus ML", 3, "FL.HUML"),
        ("FORELIMB", "ML", "猫肘关节内外侧位", "Cat elbow ML", 2.5, "FL.ELML"),
        ("FORELIMB", "CrCd", "猫桡尺骨前后位", "Cat radius/ulna CrCd", 2, "FL.RUCRCD"),
        ("FORELIMB", "DPa", "猫腕及前爪背掌位", "Cat carpus and manus DPa", 1.5, "FL.MADPA"),
        ("FORELIMB", "ML", "猫前爪内外侧位", "Cat manus ML", 1.5, "FL.MAML"),
        ("HINDLIMB", "ML", "猫股骨内外侧位", "Cat femur ML", 4, "HL.FEML"),
        ("HINDLIMB", "CrCd", "猫股骨前后位", "Cat femur CrCd", 4, "HL.FECRCD"),
        ("HINDLIMB", "ML", "猫膝关节内外侧位", "Cat stifle ML", 3, "HL.STML"),
        ("HINDLIMB", "CdCr", "猫胫腓骨后前位", "Cat tibia/fibula CdCr", 2.5, "HL.TICDCR"),
        ("HINDLIMB", "DPl", "猫跗及后爪背跖位", "Cat tarsus and pes DPl", 2, "HL.PEDPL"),
        ("HINDLIMB", "ML", "猫后爪内外侧位", "Cat pes ML", 2, "HL.PEML"),
    ]:
        add(c, part, pos, zh, en, t, "LIMB", "8x10", key=key)
    add(c, "TAIL", "LAT", "猫尾椎侧位", "Cat tail LAT", 2, "LIMB", "10x12", key="TA.LAT")
    add(c, "WHOLE BODY", "LAT", "幼猫全身侧位", "Kitten whole-body LAT", 6, "EXOTIC", "14x17", key="WB.LAT")

    # ---- Rabbit / small mammal (Medium = 2.5 kg rabbit) ----
    r = "Rabbit"
    add(r, "WHOLE BODY", "LAT", "兔全身右侧位", "Rabbit whole-body right LAT", 8, "EXOTIC", "14x17", key="WB.LAT",
        lat="R")
    add(r, "WHOLE BODY", "VD", "兔全身腹背位", "Rabbit whole-body VD", 8, "EXOTIC", "14x17", key="WB.VD")
    add(r, "THORAX", "LAT", "兔胸部右侧位", "Rabbit thorax right LAT", 7, "THORAX", "8x10", key="TH.RL", lat="R")
    add(r, "THORAX", "VD", "兔胸部腹背位", "Rabbit thorax VD", 7, "THORAX", "8x10", key="TH.VD")
    add(r, "ABDOMEN", "LAT", "兔腹部右侧位", "Rabbit abdomen right LAT", 8, "ABDOMEN", "10x12", key="AB.RL", lat="R")
    add(r, "ABDOMEN", "VD", "兔腹部腹背位", "Rabbit abdomen VD", 8, "ABDOMEN", "10x12", key="AB.VD")
    add(r, "SKULL", "LAT", "兔头颅侧位", "Rabbit skull LAT", 5, "DENTAL", "6x8", key="SK.LAT")
    add(r, "SKULL", "DV", "兔头颅背腹位", "Rabbit skull DV", 5, "DENTAL", "6x8", key="SK.DV")
    add(r, "SKULL", "OBL", "兔头颅左侧斜位（牙根）", "Rabbit skull lateral OBL, left (tooth roots)", 5, "DENTAL", "6x8",
        key="SK.OBL.L", lat="L")
    add(r, "SKULL", "OBL", "兔头颅右侧斜位（牙根）", "Rabbit skull lateral OBL, right (tooth roots)", 5, "DENTAL", "6x8",
        key="SK.OBL.R", lat="R")
    add(r, "SKULL", "RCd", "兔头颅吻尾位", "Rabbit skull rostrocaudal", 6, "DENTAL", "6x8", key="SK.RCD")
    add(r, "SPINE", "LAT", "兔脊柱侧位", "Rabbit spine LAT", 6, "BONE", "7x17", key="SP.LAT")
    add(r, "SPINE", "VD", "兔脊柱腹背位", "Rabbit spine VD", 6, "BONE", "7x17", key="SP.VD")
    add(r, "LIMB", "ML", "兔后肢内外侧位", "Rabbit hindlimb ML", 3, "LIMB", "8x10", key="LI.ML")
    add(r, "LIMB", "CrCd", "兔后肢前后位", "Rabbit hindlimb CrCd", 3, "LIMB", "8x10", key="LI.CRCD")

    # ---- Bird (Medium = parrot ≈ 400 g) ----
    b = "Bird"
    add(b, "WHOLE BODY", "VD", "鸟全身腹背位", "Bird whole-body VD", 5, "EXOTIC", "10x12", key="WB.VD")
    add(b, "WHOLE BODY", "LAT", "鸟全身右侧位", "Bird whole-body right LAT", 6, "EXOTIC", "10x12", key="WB.LAT", lat="R")
    add(b, "WING", "CrCd", "鸟翼展开前后位", "Bird wing extended CrCd", 1.5, "EXOTIC", "8x10", key="WI.CRCD")
    add(b, "WING", "ML", "鸟翼内外侧位", "Bird wing ML", 1.5, "EXOTIC", "8x10", key="WI.ML")
    add(b, "LEG", "CrCd", "鸟腿前后位", "Bird leg CrCd", 2, "EXOTIC", "6x8", key="LE.CRCD")
    add(b, "LEG", "ML", "鸟腿内外侧位", "Bird leg ML", 2, "EXOTIC", "6x8", key="LE.ML")
    add(b, "SKULL", "LAT", "鸟头颅侧位", "Bird skull LAT", 3, "EXOTIC", "6x8", key="SK.LAT")

    # ---- Reptile (Medium = 2 kg tortoise / 40 cm lizard) ----
    p = "Reptile"
    add(p, "SHELL", "DV", "龟背腹位", "Chelonian DV", 10, "EXOTIC", "10x12", key="SH.DV")
    add(p, "SHELL", "LAT", "龟水平侧位", "Chelonian horizontal-beam LAT", 12, "EXOTIC", "10x12", ws=1, key="SH.LAT")
    add(p, "SHELL", "CrCd", "龟水平前后位", "Chelonian horizontal-beam CrCd", 12, "EXOTIC", "10x12", ws=1,
        key="SH.CRCD")
    add(p, "WHOLE BODY", "DV", "蜥蜴全身背腹位", "Lizard whole-body DV", 4, "EXOTIC", "14x17", key="WB.LZDV")
    add(p, "WHOLE BODY", "LAT", "蜥蜴全身水平侧位", "Lizard whole-body horizontal-beam LAT", 5, "EXOTIC", "14x17", ws=1,
        key="WB.LZLAT")
    add(p, "WHOLE BODY", "DV", "蛇分段背腹位", "Snake segmental DV", 4, "EXOTIC", "17x14", key="WB.SNDV")
    add(p, "WHOLE BODY", "LAT", "蛇分段侧位", "Snake segmental LAT", 4, "EXOTIC", "17x14", key="WB.SNLAT")

    # ---- Equine (Medium = 500 kg horse); standing horse, horizontal beam onto a held detector (work station 1) --
    e = "Equine"
    eq = [
        ("FOOT", "LM", "马蹄外内侧位", "Equine foot LM", 12, "FO.LM", 0),
        ("FOOT", "DPa", "马蹄背掌位（0°）", "Equine foot DPa 0°", 12, "FO.DP", 0),
        ("FOOT", "OBL", "马蹄背近-掌远斜位（65°，远籽骨）", "Equine foot D65Pr-PaDiO (upright pedal)", 11, "FO.D65", 65),
        ("FOOT", "Axial", "马远籽骨切线位（掌近-掌远斜位）", "Equine navicular skyline (PaPr-PaDiO)", 10, "FO.SKY", 45),
        ("FETLOCK", "LM", "马球节外内侧位", "Equine fetlock LM", 9, "FE.LM", 0),
        ("FETLOCK", "DPa", "马球节背掌位", "Equine fetlock DPa", 9, "FE.DP", 15),
        ("FETLOCK", "OBL", "马球节背外-掌内斜位", "Equine fetlock DLPMO", 9, "FE.DLPMO", 0),
        ("FETLOCK", "OBL", "马球节背内-掌外斜位", "Equine fetlock DMPLO", 9, "FE.DMPLO", 0),
        ("CARPUS", "LM", "马腕关节外内侧位", "Equine carpus LM", 11, "CA.LM", 0),
        ("CARPUS", "DPa", "马腕关节背掌位", "Equine carpus DPa", 11, "CA.DP", 0),
        ("CARPUS", "OBL", "马腕关节背外-掌内斜位", "Equine carpus DLPMO", 11, "CA.DLPMO", 0),
        ("CARPUS", "OBL", "马腕关节背内-掌外斜位", "Equine carpus DMPLO", 11, "CA.DMPLO", 0),
        ("CARPUS", "LM", "马腕关节屈曲外内侧位", "Equine carpus flexed LM", 12, "CA.FLEX", 0),
        ("TARSUS", "LM", "马跗关节外内侧位", "Equine tarsus LM", 12, "TA.LM", 0),
        ("TARSUS", "DPl", "马跗关节背跖位", "Equine tarsus DPl", 12, "TA.DP", 0),
        ("TARSUS", "OBL", "马跗关节背外-跖内斜位", "Equine tarsus DLPMO", 12, "TA.DLPMO", 0),
        ("TARSUS", "OBL", "马跗关节背内-跖外斜位", "Equine tarsus DMPLO", 12, "TA.DMPLO", 0),
        ("STIFLE", "LM", "马膝关节外内侧位", "Equine stifle LM", 18, "ST.LM", 0),
        ("STIFLE", "CdCr", "马膝关节后前位", "Equine stifle CdCr", 20, "ST.CDCR", 10),
    ]
    for part, pos, zh, en, t, key, angle in eq:
        cls = "BONE" if part == "STIFLE" else "LIMB"
        add(e, part, pos, zh, en, t, cls, "10x12", ws=1, angle=angle, key=key)
    add(e, "HEAD", "LAT", "马头部侧位（鼻窦）", "Equine head LAT (sinuses)", 22, "BONE", "14x17", ws=1, key="HE.LAT")
    add(e, "HEAD", "DV", "马头部背腹位", "Equine head DV", 20, "BONE", "14x17", ws=1, key="HE.DV")
    add(e, "NECK", "LAT", "马颈椎侧位", "Equine cervical spine LAT", 24, "BONE", "14x17", ws=1, key="NE.LAT")
    return out


VIEWS = _views()

# procedures: species → [(zh, en, [keys], type, fast_search)]
SERIES = {
    "Dog": [
        ("犬胸部（右侧位 + 腹背位）", "Dog thorax (right LAT + VD)", ["TH.RL", "TH.VD"], "NORMAL", True),
        ("犬胸部转移筛查三位", "Dog thorax metastasis 3-view (R LAT + L LAT + VD)", ["TH.RL", "TH.LL", "TH.VD"],
         "NORMAL", False),
        ("犬胸部急诊（右侧位 + 背腹位）", "Dog thorax emergency (right LAT + DV)", ["TH.RL", "TH.DV"], "EMERGENCY", True),
        ("犬腹部（右侧位 + 腹背位）", "Dog abdomen (right LAT + VD)", ["AB.RL", "AB.VD"], "NORMAL", True),
        ("犬胃扩张扭转（右侧位 + 背腹位）", "Dog GDV (right LAT + DV)", ["AB.RL", "TH.DV"], "EMERGENCY", False),
        ("犬髋关节发育不良筛查", "Dog hip dysplasia screening (VD extended + frog-leg)", ["PV.VDEXT", "PV.VDFROG"],
         "NORMAL", True),
        ("犬骨盆（腹背位 + 侧位）", "Dog pelvis (VD + LAT)", ["PV.VDEXT", "PV.LAT"], "NORMAL", False),
        ("犬创伤（胸部侧位 + 腹部侧位 + 骨盆腹背位）", "Dog trauma (thorax LAT + abdomen LAT + pelvis VD)",
         ["TH.RL", "AB.RL", "PV.VDEXT"], "EMERGENCY", False),
        ("犬颈椎（侧位 + 腹背位）", "Dog C-spine (LAT + VD)", ["CS.LAT", "CS.VD"], "NORMAL", False),
        ("犬胸椎（侧位 + 腹背位）", "Dog T-spine (LAT + VD)", ["TS.LAT", "TS.VD"], "NORMAL", False),
        ("犬腰椎（侧位 + 腹背位）", "Dog L-spine (LAT + VD)", ["LS.LAT", "LS.VD"], "NORMAL", False),
        ("犬头颅（侧位 + 背腹位）", "Dog skull (LAT + DV)", ["SK.LAT", "SK.DV"], "NORMAL", False),
        ("犬鼻腔及额窦", "Dog nasal cavity and frontal sinus", ["SK.LAT", "SK.DV", "SK.RCD"], "NORMAL", False),
        ("犬中耳（鼓泡）", "Dog middle ear (bullae)", ["SK.BULLA", "SK.DV"], "NORMAL", False),
        ("犬全口牙齿", "Dog full-mouth dental", ["DE.MAXOCC", "DE.MANOCC", "DE.MAXOBL.L", "DE.MAXOBL.R", "DE.MANOBL.L",
                                          "DE.MANOBL.R"], "NORMAL", False),
        ("犬肩关节", "Dog shoulder (ML + CdCr)", ["FL.SHML", "FL.SHCDCR"], "NORMAL", False),
        ("犬肱骨", "Dog humerus (ML + CrCd)", ["FL.HUML", "FL.HUCRCD"], "NORMAL", False),
        ("犬肘关节发育不良筛查", "Dog elbow dysplasia (extended ML + flexed ML + CrCd)",
         ["FL.ELML", "FL.ELFLEX", "FL.ELCRCD"], "NORMAL", True),
        ("犬桡尺骨", "Dog radius/ulna (ML + CrCd)", ["FL.RUML", "FL.RUCRCD"], "NORMAL", False),
        ("犬腕关节", "Dog carpus (DPa + ML)", ["FL.CADPA", "FL.CAML"], "NORMAL", False),
        ("犬前爪", "Dog manus (DPa + ML)", ["FL.MADPA", "FL.MAML"], "NORMAL", False),
        ("犬股骨", "Dog femur (ML + CrCd)", ["HL.FEML", "HL.FECRCD"], "NORMAL", False),
        ("犬膝关节（十字韧带）", "Dog stifle (ML + CdCr)", ["HL.STML", "HL.STCDCR"], "NORMAL", True),
        ("犬胫腓骨", "Dog tibia/fibula (ML + CdCr)", ["HL.TIML", "HL.TICDCR"], "NORMAL", False),
        ("犬跗关节", "Dog tarsus (DPl + ML)", ["HL.TADPL", "HL.TAML"], "NORMAL", False),
        ("犬后爪", "Dog pes (DPl + ML)", ["HL.PEDPL", "HL.PEML"], "NORMAL", False),
        ("犬尾椎", "Dog tail (LAT + VD)", ["TA.LAT", "TA.VD"], "NORMAL", False),
    ],
    "Cat": [
        ("猫胸部（右侧位 + 腹背位）", "Cat thorax (right LAT + VD)", ["TH.RL", "TH.VD"], "NORMAL", True),
        ("猫胸部转移筛查三位", "Cat thorax 3-view", ["TH.RL", "TH.LL", "TH.VD"], "NORMAL", False),
        ("猫呼吸困难（背腹位）", "Cat dyspnoea (DV only)", ["TH.DV"], "EMERGENCY", True),
        ("猫腹部（右侧位 + 腹背位）", "Cat abdomen (right LAT + VD)", ["AB.RL", "AB.VD"], "NORMAL", True),
        ("猫尿路梗阻（腹部侧位 + 腹背位）", "Cat urethral obstruction (abdomen LAT + VD)", ["AB.RL", "AB.VD"],
         "EMERGENCY", False),
        ("猫骨盆（腹背位 + 侧位）", "Cat pelvis (VD + LAT)", ["PV.VDEXT", "PV.LAT"], "NORMAL", False),
        ("猫脊柱（侧位 + 腹背位）", "Cat spine (LAT + VD)", ["SP.LAT", "SP.VD"], "NORMAL", False),
        ("猫头颅（侧位 + 背腹位 + 鼓泡）", "Cat skull (LAT + DV + bullae)", ["SK.LAT", "SK.DV", "SK.BULLA"], "NORMAL",
         False),
        ("猫牙齿（咬合位）", "Cat dental occlusal", ["DE.MAXOCC", "DE.MANOCC"], "NORMAL", False),
        ("猫前肢", "Cat forelimb survey", ["FL.HUML", "FL.ELML", "FL.RUCRCD", "FL.MADPA"], "NORMAL", False),
        ("猫后肢", "Cat hindlimb survey", ["HL.FEML", "HL.FECRCD", "HL.STML", "HL.TICDCR"], "NORMAL", False),
        ("猫高楼综合征（胸部 + 腹部 + 骨盆）", "Cat high-rise syndrome (thorax + abdomen + pelvis)",
         ["TH.RL", "TH.VD", "AB.RL", "PV.VDEXT"], "EMERGENCY", False),
    ],
    "Rabbit": [
        ("兔全身（侧位 + 腹背位）", "Rabbit whole body (LAT + VD)", ["WB.LAT", "WB.VD"], "NORMAL", True),
        ("兔牙科头颅系列", "Rabbit dental skull series", ["SK.LAT", "SK.DV", "SK.OBL.L", "SK.OBL.R", "SK.RCD"],
         "NORMAL", True),
        ("兔胃肠停滞（腹部侧位 + 腹背位）", "Rabbit GI stasis (abdomen LAT + VD)", ["AB.RL", "AB.VD"], "EMERGENCY",
         False),
        ("兔胸部", "Rabbit thorax (LAT + VD)", ["TH.RL", "TH.VD"], "NORMAL", False),
        ("兔脊柱", "Rabbit spine (LAT + VD)", ["SP.LAT", "SP.VD"], "NORMAL", False),
        ("兔后肢", "Rabbit hindlimb (ML + CrCd)", ["LI.ML", "LI.CRCD"], "NORMAL", False),
    ],
    "Bird": [
        ("鸟全身（腹背位 + 侧位）", "Bird whole body (VD + LAT)", ["WB.VD", "WB.LAT"], "NORMAL", True),
        ("鸟翼", "Bird wing (CrCd + ML)", ["WI.CRCD", "WI.ML"], "NORMAL", False),
        ("鸟腿", "Bird leg (CrCd + ML)", ["LE.CRCD", "LE.ML"], "NORMAL", False),
        ("鸟卵滞留（全身腹背位 + 侧位）", "Bird egg binding (VD + LAT)", ["WB.VD", "WB.LAT"], "EMERGENCY", False),
    ],
    "Reptile": [
        ("龟三位（背腹 + 水平侧 + 水平前后）", "Chelonian 3-view (DV + LAT + CrCd)", ["SH.DV", "SH.LAT", "SH.CRCD"],
         "NORMAL", True),
        ("蜥蜴全身", "Lizard whole body (DV + LAT)", ["WB.LZDV", "WB.LZLAT"], "NORMAL", False),
        ("蛇全身分段", "Snake segmental survey (DV + LAT)", ["WB.SNDV", "WB.SNLAT"], "NORMAL", False),
    ],
    "Equine": [
        ("马蹄及远籽骨系列", "Equine navicular series (LM + DPa + upright pedal + skyline)",
         ["FO.LM", "FO.DP", "FO.D65", "FO.SKY"], "NORMAL", True),
        ("马蹄（外内侧 + 背掌位）", "Equine foot (LM + DPa)", ["FO.LM", "FO.DP"], "NORMAL", False),
        ("马球节四位", "Equine fetlock 4-view", ["FE.LM", "FE.DP", "FE.DLPMO", "FE.DMPLO"], "NORMAL", True),
        ("马腕关节五位", "Equine carpus 5-view", ["CA.LM", "CA.DP", "CA.DLPMO", "CA.DMPLO", "CA.FLEX"], "NORMAL",
         False),
        ("马跗关节四位", "Equine tarsus 4-view", ["TA.LM", "TA.DP", "TA.DLPMO", "TA.DMPLO"], "NORMAL", True),
        ("马膝关节", "Equine stifle (LM + CdCr)", ["ST.LM", "ST.CDCR"], "NORMAL", False),
        ("马头部（鼻窦）", "Equine head (LAT + DV)", ["HE.LAT", "HE.DV"], "NORMAL", False),
        ("马急性跛行（蹄部外内侧 + 背掌位）", "Equine acute lameness (foot LM + DPa)", ["FO.LM", "FO.DP"], "EMERGENCY",
         False),
        ("马颈椎", "Equine cervical spine LAT", ["NE.LAT"], "NORMAL", False),
    ],
}
