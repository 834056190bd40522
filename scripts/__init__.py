"""Command-line tools of the project: import graph, demo figures, benchmarks helpers."""
