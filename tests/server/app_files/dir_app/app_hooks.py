"""Lifecycle hooks of the directory application: each records itself for the tests."""

from tests.server.apps_for_tests import contract_calls


def on_server_loaded(server_context):
    contract_calls.append(("on_server_loaded", server_context.app_path))


def on_server_unloaded(server_context):
    contract_calls.append(("on_server_unloaded", server_context.app_path))


def on_session_created(session_context):
    contract_calls.append(("on_session_created", session_context.id))


def on_session_destroyed(session_context):
    contract_calls.append(("on_session_destroyed", session_context.id))
