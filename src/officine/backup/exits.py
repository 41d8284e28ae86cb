"""Exit codes of `officine backup run / drill / status`, for monitoring tools and the systemd unit.

0 is given only when what was asked is done and proven. The table is documented in docs/backups.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

from officine.backup.records import RunRecord, VerificationRecord

NOTHING_REACHED = ("absent", "unseen")


class BackupExit(IntEnum):
    OK = 0  # everything asked was done and proven
    FAILED = 1  # a backup or a check failed, a folder was not saved, or a measure fails
    BAD_INPUT = 2  # invalid plan, option or destination: nothing was changed
    INTERNAL = 3  # a bug in officine-cyber (details in a temporary file)
    INCOMPLETE = 4  # done, with something to look at: unreadable files, a measure to watch or unknown
    NOTHING_DONE = 5  # no destination in the plan, none plugged in, or another run in progress


# Which code wins when several steps are combined (`backup run --verifier`).
_SEVERITY = (BackupExit.OK, BackupExit.INCOMPLETE, BackupExit.NOTHING_DONE, BackupExit.FAILED)


def worst(*codes: BackupExit) -> BackupExit:
    return max(codes, key=lambda c: _SEVERITY.index(c) if c in _SEVERITY else len(_SEVERITY))


def for_runs(runs: Iterable[RunRecord]) -> BackupExit:
    runs = list(runs)
    if any(r.status == "failed" for r in runs):
        return BackupExit.FAILED
    if not any(r.status in ("success", "partial") for r in runs):
        return BackupExit.NOTHING_DONE
    if any(r.status == "partial" for r in runs):
        return BackupExit.INCOMPLETE
    return BackupExit.OK


def for_drills(records: Iterable[VerificationRecord]) -> BackupExit:
    records = list(records)
    if any(r.status == "failed" and r.error_code not in NOTHING_REACHED for r in records):
        return BackupExit.FAILED
    if not any(r.status == "passed" for r in records):
        return BackupExit.NOTHING_DONE
    return BackupExit.OK


def for_verdicts(verdicts: Iterable[str]) -> BackupExit:
    verdicts = list(verdicts)
    if "fail" in verdicts:
        return BackupExit.FAILED
    if "unknown" in verdicts or "warn" in verdicts:
        return BackupExit.INCOMPLETE
    return BackupExit.OK
