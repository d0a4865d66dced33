"""Files in and out: event files of every supported kind (``events.load_event``), DOM geometry from
a table or GCD file (``geometry``), skyreader ``SkyScanResult`` files (``results``), and the
``inspect`` report of an event file (``inspect``)."""
