from tests.mqtt_peers import broker

__all__ = ["broker"]
