"""`dros phantom` and `dros process`: the image-pipeline benchmark harness on the command line.

    dros phantom --kind rect --size 3072x3072 --seed 1 -o frame.npy     (.npy, .tif/.tiff or .raw)
    dros process frame.npy other.tif --preset chest -o out/

`process` writes, per input, ``<stem>.dcm`` (DX For Presentation), ``<stem>.webp`` (thumbnail)
and ``<stem>.json`` (per-stage timings, window, EI/DI, collimation), with a progress bar when
there are several inputs. `register(subparsers)` is called by `dros.cli`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from dros import imaging


def _size(text: str) -> tuple[int, int]:
    """ "WIDTHxHEIGHT" (columns x rows) → (width, height)."""
    try:
        w, h = text.lower().split("x")
        return int(w), int(h)
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 3072x3072, got {text!r}") from None


def register(subparsers: Any) -> None:
    """Adds the `phantom` and `process` sub-commands to the `dros` parser."""
    ph = subparsers.add_parser("phantom", help="write a synthetic raw detector frame (.npy, .tif or .raw)")
    ph.add_argument("--kind", choices=["rect", "circle", "none"], default="rect", help="collimation (default rect)")
    ph.add_argument("--size", type=_size, default=(3072, 3072), help="WIDTHxHEIGHT in pixels (default 3072x3072)")
    ph.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ph.add_argument("--dose", type=float, default=None, help="dose scale (default: drawn from the seed)")
    ph.add_argument("-o", "--output", required=True, help="output file: .npy, .tif/.tiff or .raw")
    ph.set_defaults(func=_phantom)

    pr = subparsers.add_parser("process", help="run the imaging chain; write DICOM, thumbnail and JSON summary")
    pr.add_argument("inputs", nargs="+", help="raw frames: .npy, .tif/.tiff, or .raw with --shape")
    pr.add_argument("--preset", default="default", help=f"enhancement preset ({', '.join(imaging.presets())})")
    pr.add_argument("--target-ei", type=float, default=250.0, help="target exposure index (default 250)")
    pr.add_argument("--shape", type=_size, default=None, help="WIDTHxHEIGHT of .raw inputs")
    pr.add_argument("--transfer-syntax", choices=["explicit", "rle"], default="explicit")
    pr.add_argument("--thumbnail-size", type=int, default=512)
    pr.add_argument("-o", "--output", required=True, help="output directory (created if missing)")
    pr.set_defaults(func=_process)


def _phantom(args: argparse.Namespace) -> int:
    width, height = args.size
    try:
        p = imaging.phantom(args.kind, width, height, args.seed, args.dose)
        imaging.write_raw(args.output, p.raw)
    except (ValueError, OSError) as exc:
        print(f"dros phantom: {exc}", file=sys.stderr)
        return 2
    return 0


def _summary(src: Path, r: imaging.ProcessResult, extra: dict[str, float], total: float) -> dict[str, Any]:
    c = r.collimation
    return {
        "input": str(src),
        "shape": list(r.image.shape),
        "preset": r.preset,
        "window_center": r.window_center,
        "window_width": r.window_width,
        "exposure_index": r.exposure_index,
        "target_exposure_index": r.target_exposure_index,
        "deviation_index": r.deviation_index,
        "collimation": {"kind": c.kind, "geometry": c.geometry, "confidence": c.confidence},
        "timings": {**dict(r.timings), **extra},
        "total_seconds": total,
    }


def _process_one(src: Path, args: argparse.Namespace, outdir: Path) -> dict[str, Any]:
    from dros.dx_metadata import DxMetadata

    shape = (args.shape[1], args.shape[0]) if args.shape else None
    raw = imaging.read_raw(src, shape=shape)
    t0 = time.perf_counter()
    r = imaging.process(raw, preset=args.preset, target_ei=args.target_ei)
    t1 = time.perf_counter()
    md = DxMetadata.new(patient_id=src.stem, image_comments=f"dros process {src.name}")
    imaging.write_dicom(outdir / f"{src.stem}.dcm", r, md, transfer_syntax=args.transfer_syntax)
    t2 = time.perf_counter()
    imaging.write_thumbnail(outdir / f"{src.stem}.webp", r, size=args.thumbnail_size)
    t3 = time.perf_counter()
    extra = {"process_call": t1 - t0, "dicom_write": t2 - t1, "thumbnail": t3 - t2}
    summary = _summary(src, r, extra, t3 - t0)
    (outdir / f"{src.stem}.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _process(args: argparse.Namespace) -> int:
    outdir = Path(args.output)
    outdir.mkdir(parents=True, exist_ok=True)
    inputs = [Path(p) for p in args.inputs]
    failures = 0
    progress = None
    if len(inputs) > 1:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=False,
        )
        progress.start()
        task = progress.add_task("processing", total=len(inputs))
    try:
        for src in inputs:
            try:
                s = _process_one(src, args, outdir)
                if progress is None:
                    print(
                        f"{src}: {s['collimation']['kind']}, window {s['window_center']:.0f}/{s['window_width']:.0f}, "
                        f"EI {s['exposure_index']:.0f}, {s['total_seconds'] * 1000:.0f} ms"
                    )
            except (ValueError, TypeError, OSError, RuntimeError) as exc:
                failures += 1
                print(f"dros process: {src}: {exc}", file=sys.stderr)
            if progress is not None:
                progress.advance(task)
    finally:
        if progress is not None:
            progress.stop()
    return 1 if failures else 0
