"""Where the simulated panel's pixels come from: the Rust phantom shaped by the delivered beam, or a
folder of recorded frames replayed in order.

Dose model (docs/detector-protocol.md §5; a teaching model tuned to the shipped exposure charts, not a
dosimetry tool):

* tube output at 1 m, ``Y(kV) = 50 µGy/mAs × (kV / 80)²`` (a tungsten tube with ≈ 2.5 mm Al total
  filtration gives 40–70 µGy/mAs at 80 kV; output grows roughly with kV²);
* air kerma at the detector in the open field, ``K = Y(kV) × mAs × (1 m / SID)² × 0.65`` (inverse square;
  0.65 = primary transmission of the anti-scatter grid and table);
* the patient: water-equivalent thickness t lets ``K · exp(−μ(kV)·t)`` reach the detector behind the median
  of the anatomy, ``μ(kV) = 0.21 cm⁻¹ × (80 / kV)^0.87``. μ is fitted so that the technique the catalog's
  thickness chart gives (e.g. 10 cm → 60 kV 2.5 mAs, 20 cm → 80 kV 6.3 mAs, 40 cm → 120 kV 16 mAs) lands
  the anatomy near 2.5 µGy (EI ≈ 250, the views' target);
* the phantom supplies the shape: it is rendered near that dose (in steps of √2, never clipping; the last
  four renders are kept, so a repeated view costs only the scaling), then scaled linearly so the median of
  its anatomy receives exactly that kerma. Its contrast is the phantom's own (the open field is brighter
  than the anatomy by the phantom's attenuation, not by exp(μt)) — the imaging chain's accuracy is measured
  on that contrast; with thickness 0 (no patient) the open field receives K;
* the panel's response (IEC 62494-1 calibration): ``DN = offset_dn + dn_per_ugy × K``, clipped to the bit
  depth. The phantom renders at 1000 DN/µGy, offset 0; the panel rescales to its own calibration.

So doubling mAs doubles the signal everywhere (until saturation), a thicker patient or a lower kV lowers
it, and the same view always shows the same anatomy (its id seeds the phantom).
"""

from __future__ import annotations

import functools
import math
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from dros import imaging
from dros.device.detector_wire import ReadoutFailure, missing_file_message
from dros.simulators import render_process

Y80_UGY_PER_MAS = 50.0
GRID_TRANSMISSION = 0.65
PHANTOM_NOMINAL_UGY = 10.0
PHANTOM_DN_PER_UGY = 1000.0
MU80_PER_CM = 0.21
MU_KV_EXPONENT = 0.87
TYPICAL_ANATOMY_GAIN = 3.0  # open field / anatomy median of a typical phantom
RENDER_RANGE = (0.05, 5.0)  # phantom dose scales rendered without clipping (0.5–50 µGy open field)


def tube_output_ugy_per_mas(kv: float) -> float:
    return float(Y80_UGY_PER_MAS * (kv / 80.0) ** 2)


def air_kerma_ugy(kv: float, mas: float, sid_cm: float) -> float:
    """Open-field air kerma at the detector (behind grid and table) for one exposure."""
    return tube_output_ugy_per_mas(kv) * mas * (100.0 / sid_cm) ** 2 * GRID_TRANSMISSION


def water_mu_per_cm(kv: float) -> float:
    """Effective attenuation of the patient (water-equivalent) for a beam of `kv`."""
    return float(MU80_PER_CM * (80.0 / kv) ** MU_KV_EXPONENT)


def anatomy_kerma_ugy(kv: float, mas: float, sid_cm: float, thickness_cm: float) -> float:
    """The model's kerma behind the median of the anatomy (what EI should report, ×100)."""
    return air_kerma_ugy(kv, mas, sid_cm) * float(np.exp(-water_mu_per_cm(kv) * thickness_cm))


@dataclass(frozen=True, slots=True)
class Beam:
    """What reached the panel: the generator's delivered kV/mAs and the geometry of the arm request."""

    kv: float
    mas: float
    sid_cm: float = 110.0
    thickness_cm: float = 20.0  # 0 = no patient (a flat field)
    view_id: str = ""
    seed: int = 0


@dataclass(frozen=True, slots=True)
class PanelResponse:
    width: int = 3072
    height: int = 3072
    bits: int = 16
    dn_per_ugy: float = 1000.0
    offset_dn: float = 0.0
    kind: str = "rect"  # phantom collimation: rect, circle, none


def phantom_seed(beam: Beam) -> int:
    """The same view gives the same anatomy (so dose series compare like with like)."""
    if beam.seed:
        return beam.seed
    return zlib.crc32(beam.view_id.encode("utf-8")) & 0x7FFFFFFF


@functools.lru_cache(maxsize=4)
def _render(
    kind: str, width: int, height: int, seed: int, dose_scale: float, apart: bool = False
) -> tuple[npt.NDArray[np.uint16], float]:
    """The phantom's raw frame and the median of its anatomy. Kept for the last few (view, dose step)
    pairs: a 3072² phantom takes 1–5 s on two busy cores, longer than a panel's readout; a repeated view
    then costs only the scaling (≈ 0.1 s). The arrays are shared: never written to. `apart`: large frames
    are rendered in a helper process (the simulator runs inside the service: `render_process`)."""
    if apart and width * height >= render_process.APART_MIN_PIXELS:
        raw, median = render_process.render_apart(kind, width, height, seed, dose_scale)
    else:
        raw, median = render_phantom(kind, width, height, seed, dose_scale)
    raw.setflags(write=False)
    return raw, median


def render_phantom(
    kind: str, width: int, height: int, seed: int, dose_scale: float
) -> tuple[npt.NDArray[np.uint16], float]:
    ph = imaging.phantom(kind, width, height, seed=seed, dose_scale=dose_scale)
    sub = (slice(None, None, 4), slice(None, None, 4))  # the median needs a sample, not 9 M pixels
    raw_sub = ph.raw[sub]
    anatomy = raw_sub[ph.anatomy_mask[sub] & (raw_sub > 0) & (raw_sub < 65535)]
    median = float(np.median(anatomy)) if anatomy.size else 0.0
    return ph.raw, median


def synthesize(beam: Beam, panel: PanelResponse, *, render_apart: bool = False) -> npt.NDArray[np.uint16]:
    """A raw frame for `beam` as `panel` reads it out (CPU-heavy: run it in a thread). `render_apart`: a new
    large phantom is rendered in a helper process (for a simulator inside the service)."""
    kerma = air_kerma_ugy(beam.kv, beam.mas, beam.sid_cm)
    behind = kerma * float(np.exp(-water_mu_per_cm(beam.kv) * beam.thickness_cm))
    # Render near the final dose (the phantom's quantum noise follows its dose; steps of √2 so renders can
    # be reused) but where it never clips, then scale linearly so the median of the anatomy gets `behind`.
    wanted = min(max(behind * TYPICAL_ANATOMY_GAIN / PHANTOM_NOMINAL_UGY, RENDER_RANGE[0]), RENDER_RANGE[1])
    render = float(2.0 ** (round(math.log2(wanted) * 2) / 2))
    raw, median = _render(panel.kind, panel.width, panel.height, phantom_seed(beam), render, render_apart)
    if beam.thickness_cm > 0 and median > 0:
        scale = behind * PHANTOM_DN_PER_UGY / max(median, 1.0)
    else:  # no patient: the open field gets the beam
        scale = kerma / (PHANTOM_NOMINAL_UGY * render)
    # Only ufuncs and casts touch whole frames (numpy releases the GIL for those): the simulator runs in the
    # service's process, and a long GIL hold would stall its event loop.
    top = np.float32((1 << panel.bits) - 1)
    dead_high = (raw == 65535) * top  # dead pixels stay saturated: top where dead, 0 elsewhere
    dn = raw.astype(np.float32)
    dn *= np.float32(scale * panel.dn_per_ugy / PHANTOM_DN_PER_UGY)
    dn += np.float32(panel.offset_dn)
    np.maximum(dn, dead_high, out=dn)
    np.clip(dn, 0.0, top, out=dn)
    np.rint(dn, out=dn)
    frame: npt.NDArray[np.uint16] = dn.astype(np.uint16)
    return frame


# --- replay ------------------------------------------------------------------------------------------

_NAME = re.compile(r"_(\d+)_(\d+)(?:_[^_./]*)?$")
REPLAY_SUFFIXES = (".tif", ".tiff", ".npy", ".raw")


class ReplayError(Exception):
    def __init__(self, reason: ReadoutFailure, path: str, en: str, zh: str) -> None:
        super().__init__(en)
        self.reason = reason
        self.path = path
        self.en = en
        self.zh = zh


def raw_shape_from_name(path: Path) -> tuple[int, int] | None:
    """``circle_3072_3072_11.raw`` → (rows 3072, columns 3072): name_<width>_<height>[_<n>]."""
    m = _NAME.search(path.stem)
    if not m:
        return None
    width, height = int(m.group(1)), int(m.group(2))
    return height, width


class ReplaySource:
    """Frames from a folder (sorted by name, cycled) or one file, read at readout time. The list is taken
    when the simulator starts; a file removed since (or a single file that does not exist) fails that
    readout with the seed's message, ``open <path>: The system cannot find the file specified.``"""

    def __init__(self, path: str) -> None:
        self.display = path
        p = Path(path)
        if p.is_dir():
            self.files = [
                f"{path.rstrip('/')}/{q.name}" for q in sorted(p.iterdir()) if q.suffix.lower() in REPLAY_SUFFIXES
            ]
            if not self.files:
                raise ValueError(f"{path}: no {'/'.join(REPLAY_SUFFIXES)} frames in this folder")
        else:
            self.files = [path]
        self._next = 0

    def next_path(self) -> str:
        path = self.files[self._next % len(self.files)]
        self._next += 1
        return path

    @staticmethod
    def load(path: str) -> npt.NDArray[np.uint16]:
        """Read one frame (in a thread); ReplayError with the seed's wording when it is missing."""
        p = Path(path)
        if not p.is_file():
            en, zh = missing_file_message(path)
            raise ReplayError(ReadoutFailure.MISSING_FILE, path, en, zh)
        try:
            return imaging.read_raw(p, shape=raw_shape_from_name(p) if p.suffix.lower() == ".raw" else None)
        except (OSError, ValueError, TypeError) as exc:
            en = f"open {path}: {exc}"
            raise ReplayError(ReadoutFailure.BAD_FILE, path, en, f"打开 {path} 失败：{exc}") from exc
