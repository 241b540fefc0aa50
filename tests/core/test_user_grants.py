"""roles.user_with_grants: the user and their grants in one query, by session id or by API token, agree with
the separate lookups; inactive users and revoked tokens get nothing."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from gongzhi.core import roles
from gongzhi.core.auth import token_create, token_hash, user_for_token
from gongzhi.core.models import ApiToken, User


def test_same_user_and_grants_as_the_separate_queries(users: dict[str, User]) -> None:
    for name, user in users.items():
        if user is None:
            continue
        fresh = User.objects.get(pk=user.pk)
        expected = roles._compute(fresh)
        by_id = roles.user_with_grants(user.pk)
        assert by_id is not None and by_id.pk == user.pk and by_id.username == fresh.username, name
        assert by_id.last_login == fresh.last_login and by_id.is_superuser == fresh.is_superuser, name
        assert roles.grants_for(by_id) == expected, name
        raw = token_create(user=fresh, name="t")[1]
        by_token = user_for_token(raw)
        assert by_token is not None and by_token.pk == user.pk, name
        assert roles.grants_for(by_token) == expected, name
    assert roles.user_with_grants(10**9) is None


def test_revoked_tokens_and_inactive_users_get_nothing(users: dict[str, User]) -> None:
    leader: Any = users["township_leader"]
    raw = token_create(user=leader, name="t")[1]
    assert user_for_token(raw) is not None
    User.objects.filter(pk=leader.pk).update(is_active=False)
    assert user_for_token(raw) is None
    User.objects.filter(pk=leader.pk).update(is_active=True)
    ApiToken.objects.filter(key_hash=token_hash(raw)).update(revoked_at=timezone.now())
    assert user_for_token(raw) is None
    assert user_for_token("gz_not-a-token") is None
