"""The demo directory's national lines, read from the file: the hotline's own numbers are
public, but written into a test's source the log guard would take them for callers'."""

from functools import cache

from app.organisations.service import DEMO_DIRECTORY, read_directory_file


@cache
def demo_line(country: str) -> str:
    """The demo directory's line for this country (E.164)."""
    directory = read_directory_file(DEMO_DIRECTORY)
    return next(line.number for line in directory.lines if line.country == country)
