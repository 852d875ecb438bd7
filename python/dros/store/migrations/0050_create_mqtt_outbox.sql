-- MQTT messages not yet acknowledged by the broker (dros.mqtt.outbox): drained in id order,
-- deleted on PUBACK, so they survive a broker outage and a restart of the service.
CREATE SEQUENCE mqtt_outbox_id START 1;
CREATE TABLE mqtt_outbox (
    id          BIGINT PRIMARY KEY DEFAULT nextval('mqtt_outbox_id'),
    topic       VARCHAR NOT NULL,
    payload     VARCHAR NOT NULL,
    retain      BOOLEAN NOT NULL DEFAULT false,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
