"""Durations and ticks, read as the ``thalia`` command reads them."""

import math
import numbers
import re

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "min": 60000.0}
_DURATION = re.compile(r"\s*([-+0-9.eE]+)(us|ms|s|min)\s*")


def duration_ms(value, what):
    """A duration in ms from a number (ms) or a string with a unit ("500ms", "2s", "100us",
    "1min"), as ``thalia run --until`` takes it. Raises ValueError or TypeError naming `what`."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        ms = float(value)
    elif isinstance(value, str):
        m = _DURATION.fullmatch(value)
        try:
            ms = float(m.group(1)) * _UNITS[m.group(2)] if m else None
        except ValueError:
            ms = None
        if ms is None:
            raise ValueError(f"{what}: duration {value!r}: expected a number with a unit "
                             "(us, ms, s, min), e.g. 500ms or 2s")
    else:
        raise TypeError(f"{what}: expected a duration such as '500ms' or a number of ms, got {value!r}")
    if not math.isfinite(ms) or ms < 0:
        raise ValueError(f"{what}: duration {value!r}: expected a non-negative number")
    return ms


def ms_to_ticks(ms, dt_ms):
    """Whole ticks, rounded to nearest, as kernel::MsToTicks computes them."""
    t = ms / dt_ms
    return 0 if t <= 0 else int(t + 0.5)
