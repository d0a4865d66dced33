"""Files in and out: event files of every supported kind (``events.load_event``), skyreader
``SkyScanResult`` files (``results``), and the ``inspect`` report of an event file (``inspect``).
DOM geometry (table, GCD file) is read by the decoders' ``skymap_scanner.i3.geometry``."""
