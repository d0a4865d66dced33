"""After the scan: contour areas and plots of a SkyScanResult."""
