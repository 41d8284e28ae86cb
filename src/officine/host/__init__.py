"""The Host: the only way collectors observe a machine.

A Host runs commands, reads files, lists directories and stats paths, and
records every observation so that a snapshot can be replayed elsewhere.
"""

from officine.host.base import Host, Observation, ObsStatus
from officine.host.local import LocalHost
from officine.host.replay import ReplayHost

__all__ = ["Host", "LocalHost", "ObsStatus", "Observation", "ReplayHost"]
