"""Registry of collectors and their concurrent execution."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime

from officine.facts import Fact, unknown
from officine.host.base import Host

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CollectContext:
    """What a collector may know besides the host: the time of collection, and whether the collection
    ran with administrator rights (None: not said), which tells a refusal from a failure."""

    now: datetime
    privileged: bool | None = None


CollectorFunc = Callable[[Host, CollectContext], dict[str, Fact]]


class Unobservable(Exception):
    """What a collector met that makes its facts unobservable (a hostile or broken machine, not a
    bug): the facts are unknown with this reason and French detail, and nothing is logged as a crash."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class CollectorSpec:
    name: str
    platforms: tuple[str, ...]
    facts: tuple[str, ...]
    func: CollectorFunc


_REGISTRY: dict[str, CollectorSpec] = {}


def collector(
    name: str, *, platforms: tuple[str, ...], facts: tuple[str, ...]
) -> Callable[[CollectorFunc], CollectorFunc]:
    def register(func: CollectorFunc) -> CollectorFunc:
        if name in _REGISTRY:
            raise ValueError(f"collector {name} registered twice")
        _REGISTRY[name] = CollectorSpec(name, platforms, facts, func)
        return func

    return register


def registered(platform: str | None = None) -> list[CollectorSpec]:
    _load_builtin()
    return [c for c in _REGISTRY.values() if platform is None or platform in c.platforms]


def _load_builtin() -> None:
    # Import for the registration side effect.
    import officine.collectors.linux  # noqa: PLC0415
    import officine.collectors.macos.accounts  # noqa: PLC0415
    import officine.collectors.macos.protection  # noqa: PLC0415
    import officine.collectors.macos.system  # noqa: PLC0415
    import officine.collectors.windows.all  # noqa: F401, PLC0415


def _run_one(spec: CollectorSpec, host: Host, ctx: CollectContext) -> dict[str, Fact]:
    try:
        facts = spec.func(host, ctx)
    except Unobservable as exc:
        return {name: unknown(exc.reason, exc.detail) for name in spec.facts}
    except Exception as exc:  # a bug in one collector must not sink the audit
        log.exception("collector %s failed", spec.name)
        return {name: unknown("collector_error", f"{spec.name}: {type(exc).__name__}: {exc}") for name in spec.facts}
    missing = [f for f in spec.facts if f not in facts]
    extra = [f for f in facts if f not in spec.facts]
    if extra:
        raise RuntimeError(f"collector {spec.name} returned undeclared facts {extra}")
    for name in missing:
        facts[name] = unknown("collector_error", f"{spec.name} n'a pas produit {name}")
    return facts


def run_collectors(
    host: Host, ctx: CollectContext, progress: Callable[[str], None] | None = None, max_workers: int = 8
) -> dict[str, Fact]:
    """Run every collector of the host's platform; slow ones never hold the others back."""
    specs = registered(host.platform)
    facts: dict[str, Fact] = {}
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="collect") as pool:
        futures = {pool.submit(_run_one, spec, host, ctx): spec for spec in specs}
        for future in as_completed(futures):
            facts.update(future.result())
            if progress is not None:
                progress(futures[future].name)
    return dict(sorted(facts.items()))
