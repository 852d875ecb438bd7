"""Hardware simulators: programs that speak the devices' protocols (`dros simulate ...`)."""
