"""`dros simulate <device>`: each simulator module that defines ``add_cli(subparsers)`` adds its command."""

from __future__ import annotations

import argparse
import importlib

SIMULATORS = ("generator", "detector")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("simulate", help="run a hardware simulator (generator, detector) on a pty or TCP")
    devices = parser.add_subparsers(dest="device", required=True, metavar="DEVICE")
    for name in SIMULATORS:
        try:
            module = importlib.import_module(f"dros.simulators.{name}")
        except ModuleNotFoundError as exc:  # a simulator not shipped in this build
            if exc.name != f"dros.simulators.{name}":
                raise
            continue
        add_cli = getattr(module, "add_cli", None)
        if add_cli is not None:
            add_cli(devices)
