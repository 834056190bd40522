"""Loading source extracts into the graph: read → map → validate → resolve → write."""
