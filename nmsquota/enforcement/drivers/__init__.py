"""nmsquota's own enforcement drivers, one module each.

Each is registered like any third-party driver: an entry point in the group
`nmsquota.drivers` (pyproject.toml), named for the `type` that picks it in `[drivers]`.
"""
