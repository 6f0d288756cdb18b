"""nmsquota as a member of the operator's monitoring (issue 21): the check plugin, the
LibreNMS application, nmsquota's own MIB served through snmpd, and OpenMetrics. Everything
here reads through the read API (nmsquota.standings): no daemon, poller, driver or screen."""
