"""Stubs of the Rust extension `dros._core` (rust_core/). Edited with every exported signature."""

__version__: str
build_profile: str
rustc_version: str
git_commit: str
build_time: str

class CoreValueError(ValueError):
    """Input rejected by the DROS core."""

class CoreIOError(OSError):
    """File-system failure inside the DROS core."""

class CorePanicError(RuntimeError):
    """An internal error (Rust panic) caught at the boundary."""

def generate_uid(root: str = "2.25") -> str:
    """A fresh DICOM UID under `root` (default `2.25`: UUID-derived, PS3.5 §B.2)."""

def validate_uid(value: str) -> None:
    """Raise CoreValueError naming the broken PS3.5 §9 rule."""
