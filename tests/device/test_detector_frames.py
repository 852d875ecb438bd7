"""What the simulated panel sends: dose that follows the delivered technique, the panel's calibration, the
timing profiles, and replayed folders (with the seed's message when a file is missing)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest

from dros import imaging
from dros.device.base import ArmRequest, DeviceFault
from dros.device.detector import imaging_calibration
from dros.simulators.detector_frames import (
    Beam,
    PanelResponse,
    air_kerma_ugy,
    anatomy_kerma_ugy,
    phantom_seed,
    synthesize,
)

from .detector_helpers import SMALL, expose, post, rig

VIEW = "V1"  # its phantom at 256² has 47 % direct exposure and 26 % anatomy


def _truth() -> imaging.Phantom:
    return imaging.phantom("rect", 256, 256, seed=phantom_seed(Beam(kv=60, mas=1, view_id=VIEW)), dose_scale=1.0)


def test_double_mas_doubles_the_open_field_signal() -> None:
    truth = _truth()

    async def main() -> tuple[float, float]:
        async with rig() as (_sim, drv):
            one = await expose(drv, kv=70, mas=4.0, thickness_cm=15, view=VIEW)
            two = await expose(drv, kv=70, mas=8.0, thickness_cm=15, view=VIEW)
        return float(one.pixels[truth.direct_mask].mean()), float(two.pixels[truth.direct_mask].mean())

    m1, m2 = asyncio.run(main())
    assert 2000 < m1 < 60000 / 2  # well inside the 16-bit range at both doses
    assert m2 / m1 == pytest.approx(2.0, rel=0.03)


def test_anatomy_dose_follows_kv_mas_distance_and_thickness() -> None:
    truth = _truth()
    panel = PanelResponse(width=256, height=256)

    def anatomy_ugy(beam: Beam) -> float:
        return float(np.median(synthesize(beam, panel)[truth.anatomy_mask])) / 1000.0

    ref = Beam(kv=70, mas=4, sid_cm=110, thickness_cm=15, view_id=VIEW)
    k_ref = anatomy_ugy(ref)
    assert k_ref == pytest.approx(anatomy_kerma_ugy(70, 4, 110, 15), rel=0.01)
    # inverse square: 110 → 180 cm
    assert anatomy_ugy(Beam(kv=70, mas=4, sid_cm=180, thickness_cm=15, view_id=VIEW)) / k_ref == pytest.approx(
        (110 / 180) ** 2, rel=0.02
    )
    # 5 cm more patient: exp(−μ·5), μ(70 kV) ≈ 0.236 /cm → ×0.31
    thicker = anatomy_ugy(Beam(kv=70, mas=4, sid_cm=110, thickness_cm=20, view_id=VIEW)) / k_ref
    assert 0.25 < thicker < 0.37
    # higher kV: more output and more penetration
    assert anatomy_ugy(Beam(kv=90, mas=4, sid_cm=110, thickness_cm=15, view_id=VIEW)) > 2 * k_ref
    assert air_kerma_ugy(80, 1, 100) == pytest.approx(50 * 0.65)


@pytest.mark.parametrize(("kv", "mas", "thickness"), [(60, 2.5, 10), (80, 6.3, 20), (120, 16, 40)])
def test_thickness_chart_techniques_give_the_target_ei(kv: float, mas: float, thickness: float) -> None:
    """The catalog's thickness chart (thickness.csv) lands near EI 250 — the model was fitted to it."""
    frame = synthesize(Beam(kv=kv, mas=mas, thickness_cm=thickness, view_id=VIEW), PanelResponse(width=512, height=512))
    ei = imaging.process(frame).exposure_index
    assert 150 < ei < 400


def test_panel_calibration_shapes_the_raw_values_and_travels_with_the_frame() -> None:
    truth = _truth()
    panel = PanelResponse(width=256, height=256, dn_per_ugy=400.0, offset_dn=120.0)

    async def main() -> None:
        async with rig(panel=panel, dn_per_ugy=400.0, offset_dn=120.0) as (_sim, drv):
            frame = await expose(drv, kv=70, mas=4, thickness_cm=15, view=VIEW)
        assert (frame.calibration.dn_per_ugy, frame.calibration.offset_dn) == (400.0, 120.0)
        k = (float(np.median(frame.pixels[truth.anatomy_mask])) - 120.0) / 400.0
        assert k == pytest.approx(anatomy_kerma_ugy(70, 4, 110, 15), rel=0.01)

    asyncio.run(main())


def test_ei_follows_the_detector_calibration() -> None:
    """Two panels with different responses see the same beam: with each frame's own calibration the imaging
    chain reports the same EI, the model's 100 × K; with the wrong calibration it would not."""
    panels = {
        (1000.0, 0.0): PanelResponse(width=512, height=512),
        (400.0, 120.0): PanelResponse(width=512, height=512, dn_per_ugy=400.0, offset_dn=120.0),
    }
    expected = 100 * anatomy_kerma_ugy(70, 4, 110, 15)

    async def main() -> dict[tuple[float, float], tuple[float, float]]:
        out = {}
        for cal, panel in panels.items():
            async with rig(panel=panel, dn_per_ugy=cal[0], offset_dn=cal[1]) as (_sim, drv):
                frame = await expose(drv, kv=70, mas=4, thickness_cm=15, view=VIEW)
            own = imaging.process(frame.pixels, calibration=imaging_calibration(frame)).exposure_index
            default = imaging.process(frame.pixels).exposure_index
            out[cal] = (own, default)
        return out

    results = asyncio.run(main())
    for own, _ in results.values():
        assert own == pytest.approx(expected, rel=0.05)
    # the 400 DN/µGy panel read as if it were the demo detector's 1000 DN/µGy: EI far too low
    assert results[(400.0, 120.0)][1] < 0.6 * expected


@pytest.mark.parametrize(("profile", "low", "high"), [("instant", 0.0, 0.5), ("realistic", 1.3, 2.5)])
def test_readout_time_per_profile(profile: str, low: float, high: float) -> None:
    async def main() -> float:
        async with rig(profile=profile) as (_sim, drv):
            await drv.arm(ArmRequest(view_id=VIEW))
            await drv.exposure_started()
            t0 = time.perf_counter()
            await drv.exposure_ended(post())
            await drv.read_frame(10.0)
            return time.perf_counter() - t0

    assert low <= asyncio.run(main()) < high


def test_replay_folder_sends_its_frames_in_name_order_and_cycles(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    frames = {
        "a_64_48_1.tif": rng.integers(0, 65535, size=(48, 64), dtype=np.uint16),
        "b_80_40_2.npy": rng.integers(0, 65535, size=(40, 80), dtype=np.uint16),
        "c_96_72_3.raw": rng.integers(0, 65535, size=(72, 96), dtype=np.uint16),
    }
    folder = tmp_path / "testfile"
    folder.mkdir()
    for name, px in frames.items():
        imaging.write_raw(folder / name, px)
    (folder / "notes.txt").write_text("not a frame")

    async def main() -> None:
        async with rig(replay=str(folder)) as (_sim, drv):
            for px in [*frames.values(), frames["a_64_48_1.tif"]]:
                got = await expose(drv)
                assert np.array_equal(got.pixels, px)

    asyncio.run(main())


def test_replay_missing_file_fails_with_the_seed_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    async def main() -> None:
        async with rig(replay="testfile/circle_3072_3072_11.tif") as (_sim, drv):
            await drv.arm(ArmRequest())
            await drv.exposure_started()
            await drv.exposure_ended(post())
            with pytest.raises(DeviceFault) as exc:
                await drv.read_frame(5.0)
            assert exc.value.en == "open testfile/circle_3072_3072_11.tif: The system cannot find the file specified."
            assert exc.value.zh and "testfile/circle_3072_3072_11.tif" in exc.value.zh
            assert drv.status.ready  # the panel itself is fine: the next exposure may be tried

    asyncio.run(main())


def test_replay_file_removed_after_start_fails_that_readout_only(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in (1, 2):
        imaging.write_raw(folder / f"f_64_64_{i}.npy", np.full((64, 64), i, dtype=np.uint16))

    async def main() -> None:
        async with rig(replay=str(folder)) as (_sim, drv):
            (folder / "f_64_64_1.npy").unlink()
            with pytest.raises(DeviceFault, match=r"f_64_64_1\.npy: The system cannot find the file specified\."):
                await expose(drv)
            assert int((await expose(drv)).pixels[0, 0]) == 2

    asyncio.run(main())


def test_small_panel_default_is_what_the_helpers_use() -> None:
    assert (SMALL.width, SMALL.height, SMALL.bits) == (256, 256, 16)
