"""Shared fixtures. The suite's date is set in ``tests/_today.py``, imported here before any test module loads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.utils import translation

from gongzhi.core.models import User
from gongzhi.core.sms import MemorySender

from . import _today  # noqa: F401  (must run before test modules read the date)
from .factories import Tree, build_tree, cadre, organization, resident


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the default language (zh-hans). A request through the test client runs LocaleMiddleware
    in the test's own thread and leaves its language active afterwards, so a test that asked for an English page
    made later tests in the same worker compare English strings with Chinese pages."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def tree(db: Any) -> Tree:
    return build_tree()


@pytest.fixture
def outbox() -> list[tuple[str, str]]:
    MemorySender.outbox.clear()
    return MemorySender.outbox


@pytest.fixture
def users(tree: Tree) -> dict[str, User]:
    """One user per role (and a few out-of-scope ones), keyed by a short name used in the permission matrix."""
    admin = User.objects.create_superuser("admin", password="Correct-Horse-42")
    return {
        "anonymous": None,  # type: ignore[dict-item]
        "admin": admin,
        "county_office": cadre(department=tree.office, title="减负办主任", username="county_office"),
        "department_staff": cadre(department=tree.dept, title="科员", username="department_staff"),
        "township_leader": cadre(unit=tree.t1, title="党委书记", is_leader=True, username="township_leader"),
        "township_staff": cadre(unit=tree.t1, title="干部", username="township_staff"),
        "village_committee": cadre(unit=tree.v11, title="村委会主任", username="village_committee"),
        "org_department": cadre(department=tree.orgdept, title="干部科科长", username="org_department"),
        "discipline": cadre(department=tree.discipline, title="案件审理室主任", username="discipline"),
        "staffing_office": cadre(
            department=tree.staffing, title="职能配置科科长", username="staffing_office"
        ),
        "resident": resident(tree.v11, phone="13900000001", with_user=True).user,  # type: ignore[dict-item]
        "org_rep": organization(tree.t1),
        "other_township_staff": cadre(unit=tree.tb, title="干部", username="other_township_staff"),
    }
