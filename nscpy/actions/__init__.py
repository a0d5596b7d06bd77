"""The use cases behind the CLI, as plain functions over a Workspace; they never import click.

Scripts and tests call these directly: `ws = Workspace.open(all_dirs="/tmp/x")`,
`add_operator(ws, "O", sys=True)`, `add_user(ws, UserSpec(name="u", account="A"))`.
"""
