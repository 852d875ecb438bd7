"""§14 device/open, device/get, device/action. Handlers only translate; `DeviceManager` does the work."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.params import JSONBody

from dros.auth.guards import requires
from dros.auth.roles import Permission
from dros.deps import DbDep, ProductDep, SettingsDep
from dros.device.base import DeviceNotReady
from dros.device.manager import DeviceManager
from dros.domain.device import service
from dros.domain.device.schemas import DeviceOpen, DeviceRequest
from dros.envelope import EMPTY, Envelope, ProtoEmpty, ok
from dros.i18n import current_language


def _manager(request: Request[Any, Any, Any]) -> DeviceManager:
    manager: DeviceManager | None = getattr(request.app.state, "devices", None)
    if manager is None:
        raise DeviceNotReady("the device layer is not running", "设备层未运行", field="deviceUri")
    return manager


class DeviceController(Controller):
    path = "/auth/device"
    tags = ["device"]
    guards = [requires(Permission.DEVICE_CONTROL)]

    @post("/open", status_code=200)
    async def open_device(self, request: Request[Any, Any, Any], data: JSONBody[DeviceOpen]) -> Envelope[ProtoEmpty]:
        await _manager(request).open(data.deviceUri)
        return ok(EMPTY)

    @post("/get", status_code=200)
    async def get_device(
        self, request: Request[Any, Any, Any], data: JSONBody[DeviceRequest], settings: SettingsDep
    ) -> Envelope[str]:
        role = str(getattr(request.user, "role", ""))
        return ok(service.device_get(_manager(request), settings, data, role, current_language()))

    @post("/action", status_code=200)
    async def device_action(
        self, request: Request[Any, Any, Any], data: JSONBody[DeviceRequest], db: DbDep, product: ProductDep
    ) -> Envelope[ProtoEmpty]:
        await service.device_action(_manager(request), db, str(product), data)
        return ok(EMPTY)
