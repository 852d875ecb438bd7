"""The device layer: generator and detector drivers, their transport, the interlocks and the
`DeviceManager` that owns them (``app.state.devices``). The contract is `dros.device.base`.
Nothing here imports the web layer."""
