"""Broker client: the client loop (``loop``), built on the transport package's sessions and worker process."""
