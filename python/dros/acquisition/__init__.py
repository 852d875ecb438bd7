"""The acquisition task (`task/inspection/*`): one selected image, one exposure at a time, from the
device layer's raw frame to a committed DX image, with the progress on MQTT. No web imports here."""
