"""The operator console (`nmsquota console`): a Textual application over the read API.

It reads the ledger only through nmsquota.standings (snapshots, in a worker) and acts only
through the control protocol or the shared operator actions; it never imports the daemon,
the poller or a driver (an import-linter contract in pyproject.toml holds it to that).
Nothing is imported here, so that `import nmsquota.console.rows` stays free of Textual.
"""
