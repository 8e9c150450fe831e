"""Which ``thalia`` executable spawned workers run.

A spawned worker is a fresh process that re-executes a program; it cannot re-execute a Python
script, so it runs the ``thalia`` executable: the one named by ``worker_binary=``, else by the
environment variable THALIA_WORKER_BINARY, else the copy the build and ``meson install`` place
beside this package.
"""

import os

_BESIDE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "thalia")


def worker_binary(explicit=None):
    """The path of the worker executable, or "" when none is found."""
    for candidate in (explicit, os.environ.get("THALIA_WORKER_BINARY")):
        if candidate:
            return os.fspath(candidate)
    return _BESIDE if os.access(_BESIDE, os.X_OK) else ""


def missing_message():
    """What to say when spawn is asked for and no executable was found."""
    return ("launch='spawn' starts each worker by running the thalia executable, and none was found: "
            f"THALIA_WORKER_BINARY is not set and {_BESIDE} does not exist; set THALIA_WORKER_BINARY "
            "or pass worker_binary=, or use launch='fork'")
