"""The use cases behind the CLI, as plain functions over a Workspace; they never import click.

Scripts and tests call these directly (tests/actions/test_docstring_example.py runs this):

>>> import tempfile
>>> from nscpy.actions.accounts import AccountSpec, add_account
>>> from nscpy.actions.operators import OperatorSpec, add_operator
>>> from nscpy.actions.users import UserSpec, add_user
>>> from nscpy.actions.workspace import Workspace
>>> home = tempfile.TemporaryDirectory()
>>> ws = Workspace.open(all_dirs=home.name, env={})
>>> saved = add_operator(ws, OperatorSpec(name="O", sys=True))
>>> saved = add_account(ws, AccountSpec(name="A"))
>>> saved = add_user(ws, UserSpec(name="u", account="A"))
>>> ws.store.list_users("O", "A")
['u']
>>> home.cleanup()

Each returns what it wrote (a list of nscpy.actions.entities.Saved); nscpy.api wraps the same
functions for scripts that would rather not build a Workspace.
"""
