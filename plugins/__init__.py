"""nmsquota's built-in enforcement drivers, one module each, found by the configured `type`.

Each module exposes DRIVER, a subclass of nmsquota.enforcement.driver.Driver. Third-party
drivers register a Driver subclass under the entry-point group `nmsquota.drivers`.
"""
