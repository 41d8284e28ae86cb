"""Collectors observe a host through the Host interface and return facts."""

from officine.collectors.registry import CollectContext, collector, registered, run_collectors

__all__ = ["CollectContext", "collector", "registered", "run_collectors"]
