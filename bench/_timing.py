"""Timing shared by the in-process benches."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from typing import Any


def timed(fn: Callable[[], Any], rounds: int = 1) -> tuple[float, float, Any]:
    """Median wall and CPU seconds of ``rounds`` calls, and the last result (garbage collector paused)."""
    walls, cpus, out = [], [], None
    for _ in range(rounds):
        gc.collect()
        gc.disable()
        try:
            w, c = time.perf_counter(), time.process_time()
            out = fn()
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
        finally:
            gc.enable()
    return statistics.median(walls), statistics.median(cpus), out
