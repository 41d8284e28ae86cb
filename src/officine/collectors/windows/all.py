"""Importing this module registers every Windows collector."""

from officine.collectors.windows import (  # noqa: F401
    accounts,
    antivirus,
    firewall,
    os_info,
    updates,
    usb_time,
    wifi,
    workstation,
)
