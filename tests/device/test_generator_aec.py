"""AEC in the generator simulator: the chambers end the exposure when the kerma behind the patient reaches the
target for the density (the detector simulator's dose model), the post-exposure record reports what was
delivered; an unreachable target runs to the backup mAs and says BACKUP_TIMER."""

from __future__ import annotations

import pytest

from dros.device.base import EndOfExposure, GeneratorState, PostExposure, TechMode
from dros.device.generator import GeneratorDriver
from dros.simulators.detector_frames import anatomy_kerma_ugy
from dros.simulators.generator import AEC_DENSITY_STEP, AEC_TARGET_UGY, GeneratorSimulator

from .test_generator_link import run


async def _aec_exposure(sim: GeneratorSimulator, drv: GeneratorDriver, *, density: int, field: int) -> PostExposure:
    await drv.set_param("TECHMODE", int(TechMode.AEC))
    await drv.set_param("AECFIELD", field)
    await drv.set_param("AECDENSITY", density)
    await drv.set_param("KV", 80)
    await drv.set_param("MA", 200)
    await drv.set_param("MAS", 20)  # the backup mAs (100 ms at 200 mA)
    await drv.prepare()
    await drv.expose()
    post = await drv.wait_exposure_end(2.0)
    await drv.release()
    await drv._wait(lambda s: s.state == GeneratorState.STANDBY, 2.0)
    return post


@pytest.mark.parametrize("density", [0, 2, -2])
def test_aec_ends_the_exposure_at_the_chamber_dose(density: int) -> None:
    async def body(sim: GeneratorSimulator, drv: GeneratorDriver) -> None:
        sim.inject("patient", 20)
        post = await _aec_exposure(sim, drv, density=density, field=0b010)
        assert post.end == EndOfExposure.AEC
        assert post.kv == 80 and post.ma == 200
        assert 0 < post.mas < 20 and post.ms < 100, "ended before the backup"
        assert post.ms == pytest.approx(post.mas / post.ma * 1000, abs=0.02)
        # the delivered mAs gives the target kerma behind the patient in the detector simulator's model
        kerma = anatomy_kerma_ugy(post.kv, post.mas, sim.s.sid_cm, 20)
        assert kerma == pytest.approx(AEC_TARGET_UGY * AEC_DENSITY_STEP**density, rel=0.01)

    run("tcp", body)


def test_thicker_patient_needs_more_mas_and_density_scales_it() -> None:
    async def body(sim: GeneratorSimulator, drv: GeneratorDriver) -> None:
        sim.inject("patient", 15)
        thin = await _aec_exposure(sim, drv, density=0, field=0b010)
        sim.inject("patient", 22)
        thick = await _aec_exposure(sim, drv, density=0, field=0b010)
        denser = await _aec_exposure(sim, drv, density=1, field=0b010)
        assert thin.end == thick.end == denser.end == EndOfExposure.AEC
        assert thin.mas < thick.mas < denser.mas
        assert denser.mas / thick.mas == pytest.approx(AEC_DENSITY_STEP, rel=0.02)

    run("tcp", body)


@pytest.mark.parametrize("why", ["no chamber", "too thick"])
def test_unreachable_target_runs_to_the_backup(why: str) -> None:
    async def body(sim: GeneratorSimulator, drv: GeneratorDriver) -> None:
        sim.inject("patient", 40 if why == "too thick" else 20)
        post = await _aec_exposure(sim, drv, density=0, field=0 if why == "no chamber" else 0b010)
        assert post.end == EndOfExposure.BACKUP_TIMER
        assert (post.mas, post.ms) == (20, 100)

    run("tcp", body)


def test_fixed_technique_is_not_cut_short() -> None:
    async def body(sim: GeneratorSimulator, drv: GeneratorDriver) -> None:
        await drv.set_param("TECHMODE", int(TechMode.THREE_POINT))
        await drv.set_param("KV", 80)
        await drv.set_param("MA", 200)
        await drv.set_param("MS", 100)
        await drv.prepare()
        await drv.expose()
        post = await drv.wait_exposure_end(2.0)
        assert (post.mas, post.ms, post.end) == (20, 100, EndOfExposure.NORMAL)

    run("tcp", body)
