import time
import pytest
from tests.factories import PASSWORD

@pytest.mark.e2e
@pytest.mark.parametrize("i", range(3))
def test_smoke(web, users, i):
    page = web.new_page("desktop")
    t0=time.perf_counter()
    def lap(s):
        nonlocal t0
        print(s, round(time.perf_counter()-t0,3)); t0=time.perf_counter()
    page.goto("/healthz", wait_until="commit"); lap("commit-health")
    page.goto("/login/", wait_until="commit"); lap("commit")
    page.wait_for_load_state("domcontentloaded"); lap("dcl")
    page.wait_for_load_state("load"); lap("load")
    page.goto("/login/"); lap("goto again")
    print(page.evaluate("JSON.stringify(performance.getEntriesByType('navigation')[0])"))
