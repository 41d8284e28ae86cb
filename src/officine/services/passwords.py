"""The password tools as every surface runs them: test a password, generate one, audit a
password manager and keep the report (counts and titles), and the site fact for MDP-04/MDP-05.

Nothing here logs, stores or returns a password it was given: the verdicts, the reports and the
errors hold numbers, codes, French sentences and entry titles only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from officine.facts import Fact
from officine.passwords.audit import AuditReport, analyse
from officine.passwords.state import build_state
from officine.passwords.strength import MAX_INPUT, Strength, assess
from officine.services.team import pharmacy_words

__all__ = ["AuditOutcome", "Strength", "audit_vault", "record_audit", "site_facts", "test_password"]

if TYPE_CHECKING:
    from officine.store import Store


def test_password(password: str, context: Sequence[str] = (), case: int = 1) -> Strength:
    from officine.errors import UserError  # noqa: PLC0415

    if case not in (1, 2, 3):
        raise UserError("Cas CNIL : 1 (mot de passe seul), 2 (compte qui se bloque) ou 3 (code d'un appareil).")
    if len(password) > MAX_INPUT:
        raise UserError(f"Au-delà de {MAX_INPUT} caractères, ce n'est plus un mot de passe : rien n'a été évalué.")
    return assess(password, context, case)


def pharmacy_context(store: Store | None) -> list[str]:
    """The pharmacy's own words (name, address, team, accounts) from the dashboard's database."""
    if store is None:
        return []
    return pharmacy_words(store)


def existing_store(url: str | None) -> Store | None:
    """The database if it exists already: testing a password never creates one."""
    from officine.store import Store  # noqa: PLC0415
    from officine.store.db import default_database_url  # noqa: PLC0415

    url = url or default_database_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    return Store(url)


@dataclass(frozen=True)
class AuditOutcome:
    report: AuditReport
    export_warning: bool  # a CSV export holds every password in clear: delete it


def audit_vault(
    path: Path,
    master_password: str | None = None,
    keyfile: Path | None = None,
    *,
    pwned_path: Path | None = None,
    case: int = 1,
    context: Sequence[str] = (),
    now: datetime | None = None,
) -> AuditOutcome:
    """Read the vault and judge every entry; nothing is written (see `record_audit`), so a bad
    file or a wrong master password changes nothing."""
    from officine.passwords.pwned import PwnedFile  # noqa: PLC0415
    from officine.passwords.vault import read_vault  # noqa: PLC0415

    pwned = PwnedFile(pwned_path) if pwned_path is not None else None  # checked before the vault is opened
    try:
        vault = read_vault(path, master_password, keyfile)
        report = analyse(vault, now or datetime.now(UTC), case=case, context=context, pwned=pwned)
    finally:
        if pwned is not None:
            pwned.close()
    return AuditOutcome(report, vault.is_export)


def record_audit(store: Store, report: AuditReport, by: str = "ligne de commande") -> int:
    from officine.passwords.records import record  # noqa: PLC0415

    return record(store, report, by)


def latest_report(store: Store) -> dict[str, object] | None:
    from officine.passwords.records import latest  # noqa: PLC0415

    stored = latest(store)
    return None if stored is None else stored.report


def site_facts(store: Store | None, now: datetime) -> dict[str, Fact]:
    """`passwords.audit` for evaluate(): the latest audit's counts and titles, or not applicable."""
    if store is None:
        return build_state(None, now)
    from officine.passwords.records import latest  # noqa: PLC0415

    stored = latest(store)
    return build_state(None if stored is None else stored.report, now)
