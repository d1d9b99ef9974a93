"""Per-application access rules: public, login required, a permission, or a callable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.utils.module_loading import import_string

__all__ = ["check_access", "describe_rule"]


def _rule_callable(rule: Any) -> Callable[[Any, str], bool] | None:
    if callable(rule):
        return cast(Callable[[Any, str], bool], rule)
    if isinstance(rule, str) and rule.startswith("callable:"):
        return cast(Callable[[Any, str], bool], import_string(rule.removeprefix("callable:")))
    return None


def check_access(rule: Any, user: Any, app_path: str) -> bool:
    """Tell whether ``user`` may open app ``app_path`` under ``rule``.

    Rules: ``"public"``; ``"login_required"``; ``"staff"``; ``"perm:app_label.codename"``
    (or ``{"permission": "app_label.codename"}``); a callable ``rule(user, app_path)``,
    or ``"callable:dotted.path"``.
    """
    if rule in (None, "public"):
        return True
    authenticated = bool(getattr(user, "is_authenticated", False))
    if rule == "login_required":
        return authenticated
    if rule == "staff":
        return authenticated and bool(getattr(user, "is_staff", False))
    if isinstance(rule, dict) and "permission" in rule:
        rule = "perm:" + str(rule["permission"])
    if isinstance(rule, str) and rule.startswith("perm:"):
        return authenticated and bool(user.has_perm(rule.removeprefix("perm:")))
    func = _rule_callable(rule)
    if func is not None:
        return bool(func(user, app_path))
    raise ValueError(f"unknown access rule {rule!r:.60}")


def describe_rule(rule: Any) -> str:
    """Return a short text naming a rule (for the index page and the admin)."""
    if rule in (None, "public"):
        return "public"
    if callable(rule):
        return f"callable {getattr(rule, '__qualname__', rule)!s}"
    return str(rule)
