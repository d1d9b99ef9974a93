"""policy.resolved_user: what a lazy request.user stands for, set up as its first attribute read sets it up."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils.functional import SimpleLazyObject

from docsync.server.admission.policy import resolved_user, user_id_of
from docsync.server.admission.visitors import _anonymous


def test_a_lazy_user_is_set_up_once_and_read_plainly() -> None:
    made: list[AnonymousUser] = []

    def make() -> AnonymousUser:
        made.append(AnonymousUser())
        return made[-1]

    lazy = SimpleLazyObject(make)
    assert resolved_user(lazy) is made[0] and resolved_user(lazy) is made[0] and len(made) == 1
    assert lazy.is_authenticated is False and len(made) == 1  # the same object behind the proxy
    assert _anonymous(SimpleLazyObject(AnonymousUser)) and user_id_of(resolved_user(lazy)) is None


def test_anything_else_is_itself() -> None:
    user = AnonymousUser()
    assert resolved_user(user) is user and resolved_user(None) is None
