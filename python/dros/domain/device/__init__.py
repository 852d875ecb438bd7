"""device/open, device/get, device/action (API.md §14) over `dros.device.manager.DeviceManager`."""
