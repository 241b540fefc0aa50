"""The date the test suite runs on (imported first by tests/conftest.py).

The demo county lays a year of inspection plans and joint visits around today: in January and February few or none
of this year's visits have happened yet, so the walks that record findings on a held visit would have nothing to
hold. The suite then runs as if it were 15 June of the same year (time-machine, ticking, started before any module
reads the date). ``GONGZHI_TEST_TODAY=YYYY-MM-DD`` runs it as of another day, to try a date on purpose; only
forward travel is used, so browser cookies set by the live server never look expired to Chromium.
"""

from __future__ import annotations

import datetime as _dt
import os as _os


def _travel() -> None:
    real = _dt.date.today()
    wanted = _os.environ.get("GONGZHI_TEST_TODAY")
    target = _dt.date.fromisoformat(wanted) if wanted else real
    if target.month < 3:
        target = _dt.date(target.year, 6, 15)
    if target <= real:
        return
    import time_machine

    now = _dt.datetime.now()
    time_machine.travel(_dt.datetime.combine(target, now.time()), tick=True).start()


_travel()
