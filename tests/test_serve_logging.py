"""`dros serve` logs to the size-bounded rotating file when runtime.log_file is set, at log_level."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import start_server, stop_server


def test_served_process_writes_the_log_file_at_its_level(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "dros.log"
    server = start_server(tmp_path / "data", extra_env={"DROS_RUNTIME_LOG_FILE": str(log_file)})
    try:
        with server.client() as c:
            assert c.get("/dr/api/v1/pub/language").status_code == 200
    finally:
        stop_server(server)
    text = log_file.read_text()
    assert "users still have the default password" in text  # a start-up warning reaches the file
    assert "dros.access" not in text  # the INFO access log is below start_server's DROS_LOG_LEVEL=WARNING
