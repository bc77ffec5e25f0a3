"""Helpers with no knowledge of models or data: paths and settings, files, threads,
progress bars."""
