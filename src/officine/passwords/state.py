"""The site fact `passwords.audit`, from the latest password-manager audit (pure: no I/O)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from officine.facts import Fact, not_applicable, observed

FACT = "passwords.audit"


def build_state(latest: dict[str, Any] | None, now: datetime) -> dict[str, Fact]:
    """`latest`: the stored report of the latest audit (AuditReport.to_json()), or None."""
    if latest is None:
        return {FACT: not_applicable("aucun audit de gestionnaire de mots de passe")}
    audited = datetime.fromisoformat(latest["audited_at"])
    return {
        FACT: observed(
            {
                "audited_at": latest["audited_at"],
                "age_days": (now - audited).days,
                "source": latest["source"],
                "entries": latest["entries"],
                "case": latest.get("case", 1),
                "counts": latest["counts"],
                "findings": latest["findings"],
            }
        )
    }
