"""Process-level runtime of the service: the data-directory lock, the worker's parent watchdog and
the event-loop lag probe. Nothing here imports the web layer."""
