"""The monitoring daemon: the paper's byteshare. Every interval it polls, records, decides
and enforces.

One cycle:

1. poll every access server (nmsquota.snmp.cycle), concurrently and each bounded in time;
2. commit the samples and counter baselines, the policy's decisions (limits, standings) and
   the daemon's health in one ledger commit, so readers in other processes (the console,
   the check plugin, `nmsquota status`) always see a consistent cycle;
3. reconcile every driver with the subscribers who should be limited.

A slow device or driver never makes a cycle overrun silently: each cycle's duration and
lateness against its schedule are logged and kept in the ledger's `daemon` record. A restart
resumes from the ledger: the baselines (nothing double counted) and the limits (reconciled
with what the drivers have, so limits stay as they were).

The package: core.py runs the cycle and the loop; record.py is what it writes to the ledger;
sessions.py who is where; looks.py the projected looks between cycles; verification.py
whether limits bite; enforcers.py the drivers; control.py the control socket's requests;
overrides.py and roster.py the operator's overrides and provisioned subscribers (which the
CLI also writes when no daemon runs); devices.py the configured access servers as the
poller's devices; report.py what one cycle did; observed.py what the readers get of what
the daemon sees (access servers, sessions, the event log).
"""
