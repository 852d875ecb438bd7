"""Start-up and shut-down of the acquisition task (a Litestar lifespan after the main one: it needs
the store, the MQTT publisher, the device layer and the study service)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar

from dros.acquisition.service import AcquisitionService
from dros.settings import Locale


@asynccontextmanager
async def acquisition_lifespan(app: Litestar) -> AsyncIterator[None]:
    state = app.state

    async def retake(sop: str) -> str:
        reply: Any = await state.study_service.copy_view(sop)
        return str(_new_sop(reply, sop))

    def language() -> Locale:
        lang: Locale = getattr(state, "system_language", Locale.en_US)
        return lang

    service = AcquisitionService(state.db, state.devices, state.mqtt, state.settings, language=language, retake=retake)
    state.acquisition = service
    await service.start()
    try:
        yield
    finally:
        await service.stop()


def _new_sop(reply: Any, original: str) -> str:
    """The SOP UID of the slot `copy_view` created (its reply lists the new image)."""
    for series in getattr(reply, "series", None) or []:
        for image in getattr(series, "images", None) or []:
            uid = getattr(image, "sop_instance_uid", "")
            if uid and uid != original:
                return str(uid)
    raise RuntimeError("copy_view did not report the new image")
