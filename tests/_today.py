"""The date the test suite runs on (imported first by tests/conftest.py).

The demo county lays a year of inspection plans and joint visits around today: in January and February few or none
of this year's visits have happened yet, so the walks that record findings on a held visit would have nothing to
hold, and in December none is left to come or to merge. The suite then runs as if it were 15 June (of the same
year, or of the next in December) (time-machine, ticking, started before any module
reads the date). ``GONGZHI_TEST_TODAY=YYYY-MM-DD`` (a date in Asia/Shanghai) runs it as of another day, to try a date on purpose; only
forward travel is used, so browser cookies set by the live server never look expired to Chromium.
"""

from __future__ import annotations

import datetime as _dt
import os as _os
from zoneinfo import ZoneInfo

# The platform's day is Asia/Shanghai's (settings.TIME_ZONE): from 16:00 UTC on 31 December it is already January.
_TZ = ZoneInfo("Asia/Shanghai")


def _travel() -> None:
    now = _dt.datetime.now(_TZ)
    wanted = _os.environ.get("GONGZHI_TEST_TODAY")
    target = _dt.date.fromisoformat(wanted) if wanted else now.date()
    if target.month < 3:
        target = _dt.date(target.year, 6, 15)
    elif target.month == 12:
        target = _dt.date(target.year + 1, 6, 15)
    if target == now.date():
        return
    # Noon of the target day: a suite of a few minutes stays inside that day in every time zone involved.
    dest = _dt.datetime.combine(target, _dt.time(12), tzinfo=_TZ)
    if dest <= now:
        return  # forward only (see above)
    import time_machine

    time_machine.travel(dest, tick=True).start()


_travel()
