"""Customer Graph 360: settings, command line and application wiring."""
