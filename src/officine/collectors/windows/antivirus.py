"""Antivirus on Windows: Defender's own status first, then Security Center for other products."""

from __future__ import annotations

from typing import Any

from officine.collectors.registry import CollectContext, collector
from officine.collectors.windows.observe import objects
from officine.facts import Fact, observed, unknown
from officine.host.base import Host, Observation
from officine.parsers.windows import as_bool, as_int, decode_product_state


def defender(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not rows:
        return None
    row = rows[0]
    age = as_int(row.get("AntivirusSignatureAge"))
    service = as_bool(row.get("AMServiceEnabled"))
    enabled = as_bool(row.get("AntivirusEnabled"))
    return {
        "name": "Microsoft Defender",
        "source": "Get-MpComputerStatus",
        "running": bool(service) and bool(enabled) if service is not None and enabled is not None else None,
        "realtime": as_bool(row.get("RealTimeProtectionEnabled")),
        "signature_age_days": age,
        "signatures_built_at": None,
        "mode": row.get("AMRunningMode"),
    }


# Defender's own entry in Security Center: its product path is this URI whatever the language; the
# display names are a fallback for captures without it. Matched exactly, never by substring
# ("Bitdefender" contains "defender").
DEFENDER_PATH = "windowsdefender://"
DEFENDER_NAMES = ("windows defender", "microsoft defender", "microsoft defender antivirus")


def is_defender(row: dict[str, Any]) -> bool:
    path = str(row.get("pathToSignedProductExe") or "").strip().lower()
    if path:
        return path == DEFENDER_PATH
    return str(row.get("displayName") or "").strip().lower() in DEFENDER_NAMES


def security_center(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    products = []
    for row in rows:
        state = as_int(row.get("productState"))
        if state is None:
            continue
        decoded = decode_product_state(state)
        products.append(
            {
                "name": str(row.get("displayName") or "?"),
                "defender": is_defender(row),
                "source": "Centre de sécurité",
                "product_state": state,
                "running": decoded["enabled"],
                "realtime": decoded["enabled"],
                # Security Center only says "up to date or not": 0 days or more than the limit.
                "signature_age_days": 0 if decoded["up_to_date"] else 30,
                "signatures_built_at": None,
            }
        )
    return products


@collector("windows.antivirus", platforms=("windows",), facts=("antivirus.products",))
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    used: list[Observation] = []
    products: list[dict[str, Any]] = []
    d_obs, d_rows = objects(host, "antivirus.defender")
    sc_obs, sc_rows = objects(host, "antivirus.securitycenter")
    used += [d_obs, sc_obs]
    ours = defender(d_rows) if not isinstance(d_rows, Fact) else None
    if ours is not None:
        products.append(ours)
    if not isinstance(sc_rows, Fact):
        # Defender's own cmdlet says more than Security Center: keep its entry only without it.
        products += [p for p in security_center(sc_rows) if not (ours is not None and p["defender"])]
    if not products and isinstance(d_rows, Fact) and isinstance(sc_rows, Fact):
        # Neither source answered (e.g. Windows Server without Security Center and no Defender):
        # we cannot tell, so we do not guess.
        return {
            "antivirus.products": unknown(
                d_rows.reason or "error", "ni Defender ni le Centre de sécurité n'ont répondu", *used
            )
        }
    return {"antivirus.products": observed({"products": products, "processes_visible": True}, *used)}
