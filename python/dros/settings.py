"""All configuration in one typed place: defaults < TOML file < DROS_* environment < CLI flags.

Built once (by `dros serve`, or by `create_app()` when granian imports the factory) and passed down;
nothing reads the environment at import time.
"""

from __future__ import annotations

import enum
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import msgspec

ENV_PREFIX = "DROS_"


class Product(enum.StrEnum):
    DROS = "DROS"  # human
    VETDROS = "VETDROS"  # veterinary


class Locale(enum.StrEnum):
    en_US = "en_US"
    zh_CN = "zh_CN"


class MqttSettings(msgspec.Struct, frozen=True, kw_only=True):
    url: str = "mqtt://127.0.0.1:1883"
    client_id: str = "dros"


class AuthSettings(msgspec.Struct, frozen=True, kw_only=True):
    # A shift and a half: a console stays logged in through a working day without surprises.
    token_lifetime_s: Annotated[int, msgspec.Meta(ge=60, le=30 * 86400)] = 12 * 3600
    guest_token_lifetime_s: Annotated[int, msgspec.Meta(ge=60, le=30 * 86400)] = 24 * 3600
    password_min_length: Annotated[int, msgspec.Meta(ge=4, le=64)] = 6
    login_max_failures: Annotated[int, msgspec.Meta(ge=1, le=100)] = 5
    login_failure_window_s: Annotated[int, msgspec.Meta(ge=1)] = 15 * 60
    login_lockout_s: Annotated[int, msgspec.Meta(ge=1)] = 5 * 60


class DicomSettings(msgspec.Struct, frozen=True, kw_only=True):
    # 2.25 = UUID-derived UIDs (PS3.5 §B.2): unique without registering an organisation root.
    uid_root: str = "2.25"
    ae_title: Annotated[str, msgspec.Meta(min_length=1, max_length=16)] = "DROS"
    institution_name: str = ""
    station_name: str = "DROS"


class DeviceSettings(msgspec.Struct, frozen=True, kw_only=True):
    generator: str = "simulator"
    detector: str = "simulator"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    host: str = "0.0.0.0"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 7700
    data_dir: str = "./data"
    product: Product = Product.DROS
    default_language: Locale = Locale.en_US
    log_level: str = "INFO"
    mqtt: MqttSettings = msgspec.field(default_factory=MqttSettings)
    auth: AuthSettings = msgspec.field(default_factory=AuthSettings)
    dicom: DicomSettings = msgspec.field(default_factory=DicomSettings)
    device: DeviceSettings = msgspec.field(default_factory=DeviceSettings)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser().resolve()

    @property
    def database_path(self) -> Path:
        return self.data_path / "dros.duckdb"

    @classmethod
    def load(
        cls,
        config_file: str | os.PathLike[str] | None = None,
        environ: Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> Settings:
        """Merge the layers; raise `SettingsError` naming the bad key."""
        environ = os.environ if environ is None else environ
        merged: dict[str, Any] = {}
        config_file = config_file or environ.get(ENV_PREFIX + "CONFIG")
        if config_file:
            try:
                with open(config_file, "rb") as fh:
                    _deep_merge(merged, tomllib.load(fh))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise SettingsError(f"cannot read config file {config_file}: {exc}") from exc
        _deep_merge(merged, _from_environ(environ))
        _deep_merge(merged, {k: v for k, v in (overrides or {}).items() if v is not None})
        try:
            return msgspec.convert(merged, cls, strict=False)
        except msgspec.ValidationError as exc:
            raise SettingsError(f"invalid setting: {exc}") from exc


class SettingsError(ValueError):
    pass


def env_names() -> dict[str, tuple[str, ...]]:
    """DROS_<SECTION>_<KEY> (or DROS_<KEY> at top level) → path in the settings tree."""
    names: dict[str, tuple[str, ...]] = {}
    for field in msgspec.structs.fields(Settings):
        default = field.default if field.default is not msgspec.NODEFAULT else None
        if field.default_factory is not msgspec.NODEFAULT:
            default = field.default_factory()
        if isinstance(default, msgspec.Struct):
            for sub in msgspec.structs.fields(type(default)):
                names[f"{ENV_PREFIX}{field.name}_{sub.name}".upper()] = (field.name, sub.name)
        else:
            names[f"{ENV_PREFIX}{field.name}".upper()] = (field.name,)
    return names


def _from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for env, path in env_names().items():
        if env in environ:
            node = out
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = environ[env]
    return out


def _deep_merge(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        elif isinstance(value, Mapping):
            into[key] = {}
            _deep_merge(into[key], value)
        else:
            into[key] = value
