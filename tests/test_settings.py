"""Settings: defaults < TOML file < DROS_* environment < CLI overrides."""

from __future__ import annotations

import pytest

from dros.settings import Locale, Product, Settings, SettingsError, env_names


def test_documented_defaults():
    s = Settings.load(environ={})
    assert (s.host, s.port, s.data_dir, s.product, s.default_language) == (
        "0.0.0.0",
        7700,
        "./data",
        Product.DROS,
        Locale.en_US,
    )
    assert s.mqtt.url == "mqtt://127.0.0.1:1883" and s.auth.token_lifetime_s == 43200 and s.dicom.uid_root == "2.25"


def test_layers_override_in_order(tmp_path):
    cfg = tmp_path / "dros.toml"
    cfg.write_text(
        'port = 7001\nproduct = "VETDROS"\n[auth]\ntoken_lifetime_s = 600\n[mqtt]\nurl = "mqtt://127.0.0.1:1999"\n'
    )
    s = Settings.load(cfg, environ={"DROS_PORT": "7002", "DROS_AUTH_TOKEN_LIFETIME_S": "900"}, overrides={"port": 7003})
    assert s.port == 7003 and s.auth.token_lifetime_s == 900 and s.product == Product.VETDROS
    assert s.mqtt.url == "mqtt://127.0.0.1:1999"
    assert Settings.load(environ={"DROS_CONFIG": str(cfg)}).port == 7001


def test_env_names_cover_the_issue_list():
    names = env_names()
    for n in [
        "DROS_HOST",
        "DROS_PORT",
        "DROS_DATA_DIR",
        "DROS_MQTT_URL",
        "DROS_AUTH_TOKEN_LIFETIME_S",
        "DROS_PRODUCT",
        "DROS_DEFAULT_LANGUAGE",
    ]:
        assert n in names


@pytest.mark.parametrize(
    "env", [{"DROS_PORT": "70000"}, {"DROS_PORT": "abc"}, {"DROS_PRODUCT": "DROC"}, {"DROS_AUTH_TOKEN_LIFETIME_S": "1"}]
)
def test_bad_values_are_refused_with_the_key(env):
    with pytest.raises(SettingsError) as e:
        Settings.load(environ=env)
    key = next(iter(env)).removeprefix("DROS_").lower()
    assert key.split("_")[-1] in str(e.value) or key in str(e.value)


def test_unreadable_config_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("port = [")
    with pytest.raises(SettingsError):
        Settings.load(bad, environ={})
