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
from typing import Annotated, Any, Literal

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
    # `dros serve` starts its own mosquitto when `url` names a loopback address and this is true
    embedded: bool = True
    # the embedded broker's listeners: `url`'s port (MQTT/TCP) and this WebSocket port, on listen_host
    ws_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 9001
    listen_host: str = "127.0.0.1"
    # short: a console must see the service come back within a second or two of the broker
    reconnect_delay_s: Annotated[float, msgspec.Meta(gt=0, le=60)] = 1.0


class AuthSettings(msgspec.Struct, frozen=True, kw_only=True):
    # A shift and a half: a console stays logged in through a working day without surprises.
    token_lifetime_s: Annotated[int, msgspec.Meta(ge=60, le=30 * 86400)] = 12 * 3600
    guest_token_lifetime_s: Annotated[int, msgspec.Meta(ge=60, le=30 * 86400)] = 24 * 3600
    password_min_length: Annotated[int, msgspec.Meta(ge=4, le=64)] = 6
    login_max_failures: Annotated[int, msgspec.Meta(ge=1, le=100)] = 5
    login_failure_window_s: Annotated[int, msgspec.Meta(ge=1)] = 15 * 60
    login_lockout_s: Annotated[int, msgspec.Meta(ge=1)] = 5 * 60
    # (user name, address) pairs remembered for throttling; the oldest are forgotten beyond this
    login_throttle_max_entries: Annotated[int, msgspec.Meta(ge=100, le=1_000_000)] = 10_000


class DicomSettings(msgspec.Struct, frozen=True, kw_only=True):
    # 2.25 = UUID-derived UIDs (PS3.5 §B.2): unique without registering an organisation root.
    uid_root: str = "2.25"
    ae_title: Annotated[str, msgspec.Meta(min_length=1, max_length=16)] = "DROS"
    institution_name: str = ""
    station_name: str = "DROS"
    # our listening AE (ae_title): storage-commitment reports (N-EVENT-REPORT) and echo; 0 = off
    scp_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 11112
    scp_host: str = "0.0.0.0"


class PacsSettings(msgspec.Struct, frozen=True, kw_only=True):
    # connect, association and echo-response limit of scp/echo: a misconfigured node answers fast
    echo_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=120)] = 5.0
    # the same limits for send associations (a 19 MB image on a slow link needs more)
    timeout_s: Annotated[float, msgspec.Meta(gt=0, le=600)] = 30.0
    # retries: base * 2^(n-1) seconds after the n-th failed attempt, at most retry_cap_s, at most max_attempts
    retry_base_s: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 10.0
    retry_cap_s: Annotated[float, msgspec.Meta(gt=0, le=86400)] = 600.0
    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 12
    # the worker's idle poll (new tasks also wake it at once)
    poll_s: Annotated[float, msgspec.Meta(gt=0, le=60)] = 1.0
    # how long scp/store, study_store and store_reply wait for the first attempt before replying
    reply_wait_s: Annotated[float, msgspec.Meta(ge=0, le=300)] = 15.0
    # run the send worker (off: tasks are queued and wait)
    worker: bool = True


class RisSettings(msgspec.Struct, frozen=True, kw_only=True):
    # connect, association and response limit of a worklist C-FIND (the console waits for it)
    worklist_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=120)] = 10.0
    # how answers without Specific Character Set are read (many worklist providers leave it out)
    worklist_charset: Literal["ISO_IR 192", "GB18030", "ISO_IR 100", "ISO_IR 6"] = "ISO_IR 192"
    # MPPS: limits of one N-CREATE/N-SET, retry after base * 2^(n-1) s (at most cap; never given up)
    mpps_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=120)] = 10.0
    mpps_retry_base_s: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 5.0
    mpps_retry_cap_s: Annotated[float, msgspec.Meta(gt=0, le=86400)] = 300.0
    mpps_poll_s: Annotated[float, msgspec.Meta(gt=0, le=60)] = 1.0
    # run the MPPS worker (off: steps are not reported)
    mpps_worker: bool = True


class DeviceSettings(msgspec.Struct, frozen=True, kw_only=True):
    generator: str = "simulator"
    detector: str = "simulator"
    # the detector's EI calibration (IEC 62494-1): raw = offset + dn_per_ugy × K_CAL[µGy], measured at RQA5
    detector_dn_per_ugy: Annotated[float, msgspec.Meta(gt=0, le=1e6)] = 1000.0
    detector_offset_dn: Annotated[float, msgspec.Meta(ge=0, le=65535)] = 0.0
    # detector = "panel": the control link of a panel speaking docs/detector-protocol.md (socket://host:port,
    # /dev/ttyUSB0 — e.g. `dros simulate detector` as its own process); its data channel "host:port" is
    # detector_data, or the port the panel reports on the control link's host
    detector_url: str = ""
    detector_data: str = ""
    # simulator timing: "realistic" (prep ≈ 1 s, readout ≈ 1.3 s; ./scripts/run) or "instant" (tests)
    simulator_profile: Literal["instant", "realistic"] = "realistic"
    # generator = "serial": the port speaking docs/generator-protocol.md (/dev/ttyS0, socket://host:port)
    generator_url: str = ""
    generator_baudrate: Annotated[int, msgspec.Meta(ge=1200, le=921600)] = 19200
    loop_time_ms: Annotated[int, msgspec.Meta(ge=50, le=60000)] = 2000  # heartbeat (the seed's loopTime)
    reconnect: bool = True  # reopen a lost link (the seed's ReConnect)
    reply_timeout_ms: Annotated[int, msgspec.Meta(ge=5, le=10000)] = 250  # per attempt; silence = implied NAK
    retries: Annotated[int, msgspec.Meta(ge=1, le=10)] = 3  # attempts per command before the link counts as lost
    backup_margin_ms: Annotated[int, msgspec.Meta(ge=10, le=10000)] = 250  # backup timer = set time × 1.2 + this


class RuntimeSettings(msgspec.Struct, frozen=True, kw_only=True):
    # stop accepting, cancel queued database work, close: the worker is killed when this runs out
    shutdown_timeout_s: Annotated[int, msgspec.Meta(ge=1, le=60)] = 5
    # DuckDB's worker threads. One: the service's queries are small (a page, a study), where a second
    # thread costs more in hand-over than it saves (a worklist page: 2.5 ms CPU with one, 3.2 with two),
    # and the two cores belong to the event loop and the imaging chain first
    db_threads: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    # the event-loop lag probe (dros.runtime.loop_lag): wake-up interval, warning threshold, window
    # the event loop's thread under SCHED_FIFO at this priority when the process may (root,
    # CAP_SYS_NICE or RLIMIT_RTPRIO); 0 = normal scheduling (dros.runtime.priority)
    loop_realtime_priority: Annotated[int, msgspec.Meta(ge=0, le=49)] = 1
    # how long a thread may hold the GIL while another waits for it: the loop waits at most this
    # long for a thread that runs Python (CPython's default is 5 ms)
    gil_switch_interval_ms: Annotated[float, msgspec.Meta(ge=0.1, le=100)] = 1.0
    loop_lag_interval_ms: Annotated[float, msgspec.Meta(gt=0, le=1000)] = 5.0
    loop_lag_warn_ms: Annotated[float, msgspec.Meta(gt=0)] = 50.0
    loop_lag_window_s: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 60.0
    # "" = log to stderr only (journald under systemd); a path adds a size-bounded rotating file
    log_file: str = ""
    log_max_bytes: Annotated[int, msgspec.Meta(ge=64 * 1024)] = 10 * 1024 * 1024
    log_backups: Annotated[int, msgspec.Meta(ge=1, le=100)] = 5


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
    pacs: PacsSettings = msgspec.field(default_factory=PacsSettings)
    ris: RisSettings = msgspec.field(default_factory=RisSettings)
    device: DeviceSettings = msgspec.field(default_factory=DeviceSettings)
    runtime: RuntimeSettings = msgspec.field(default_factory=RuntimeSettings)

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
