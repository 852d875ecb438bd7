"""Live status for consoles over MQTT: the two topics of the contract, one publisher over gmqtt, the
durable outbox in DuckDB, and the embedded mosquitto `dros serve` starts. Nothing here imports the
web layer."""
