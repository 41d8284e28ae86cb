"""Checks: one small function per measure, registered by measure ID."""

from officine.checks.base import CHECKS, CheckContext, CheckSpec, Outcome, check

__all__ = ["CHECKS", "CheckContext", "CheckSpec", "Outcome", "check", "load_checks"]


def load_checks() -> dict[str, CheckSpec]:
    # Import for the registration side effect.
    from officine.checks import (  # noqa: F401, PLC0415
        accounts,
        backups,
        incidents,
        passwords,
        registers,
        removable,
        sentinel,
        system,
        wifi,
    )

    return CHECKS
