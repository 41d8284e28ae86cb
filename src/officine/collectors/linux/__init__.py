"""Linux collectors. Importing this package registers them."""

from officine.collectors.linux import (  # noqa: F401
    accounts,
    antivirus,
    encryption,
    firewall,
    network,
    os_release,
    password_policy,
    removable,
    screenlock,
    sentinel,
    software,
    ssh,
    timesync,
    tools,
    updates,
    wifi,
)
