"""Clock synchronisation (systemd-timesyncd, chrony, ntpd)."""

from __future__ import annotations

from officine.collectors.linux.common import processes
from officine.collectors.registry import CollectContext, collector
from officine.facts import Fact, observed, unknown_from
from officine.host.base import Host
from officine.parsers.misc import parse_key_value_lines

SYNC_DAEMONS = ("systemd-timesyn", "chronyd", "ntpd", "openntpd")


@collector("linux.time", platforms=("linux",), facts=("time.sync",))
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    show = host.run(["timedatectl", "show"])
    ps_obs, procs = processes(host)
    daemons = sorted({p.comm for p in procs or [] if p.comm in SYNC_DAEMONS})
    if show.ok and show.exit_code == 0:
        values = parse_key_value_lines(show.output or "")
        if "NTPSynchronized" in values:
            return {
                "time.sync": observed(
                    {
                        "synchronized": values["NTPSynchronized"] == "yes",
                        "ntp_enabled": values.get("NTP") == "yes",
                        "daemons": daemons,
                        "source": "timedatectl",
                    },
                    show,
                    ps_obs,
                )
            }
    if procs is not None:
        # Without systemd we can only see whether a synchronisation daemon runs.
        return {
            "time.sync": observed(
                {
                    "synchronized": None,
                    "ntp_enabled": bool(daemons),
                    "daemons": daemons,
                    "source": "processes",
                },
                show,
                ps_obs,
            )
        }
    return {"time.sync": unknown_from(show, "timedatectl")}
