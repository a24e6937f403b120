"""The one error type the command line shows as a one-line message instead of a traceback."""

from __future__ import annotations


class CommandError(Exception):
    """Something the user can fix: a missing file, a bad column, an unsupported option.

    ``glassnet.cli.main`` prints it as ``glassnet: error: <message>`` on standard error and
    exits with status 1. Code that finds a bug in glassnet itself must not raise it: a bug
    should still show its traceback.
    """
