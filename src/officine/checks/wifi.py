"""WiFi (WIFI-*)."""

from __future__ import annotations

from typing import Any

from officine.checks.base import CheckContext, Outcome, check, fail, passed, unknown, warn
from officine.facts import FactStatus

MIN_KEY_LENGTH = 20  # MonAideCyber, ANSSI WiFi note
HIDDEN_SSID = "nom masqué par le système"


def _ssid(value: dict[str, Any]) -> str:
    """The network's name; macOS hides it ("<redacted>") from programs without location access."""
    return str(value.get("ssid") or HIDDEN_SSID)


@check("WIFI-01", reasons=("wpa3", "wpa2", "enterprise", "open", "wep", "tkip", "owe", "negotiation_unknown"))
def wifi_security(ctx: CheckContext) -> Outcome:
    value = ctx.fact("wifi.connection")
    ssid = _ssid(value)
    key_mgmt = (value.get("key_mgmt") or "none").lower()
    rsn = (value.get("rsn_flags") or "").lower()
    wpa = (value.get("wpa_flags") or "").lower()
    proto = (value.get("proto") or "").lower()
    pairwise = (value.get("pairwise") or "").lower()
    if key_mgmt == "none":
        return fail(
            "wep" if value.get("wep_key_type") or "wep" in (value.get("ap_security") or "").lower() else "open",
            ssid=ssid,
        )
    if key_mgmt == "owe":
        return warn("owe", ssid=ssid)
    if key_mgmt in ("sae", "wpa-eap-suite-b-192"):
        return passed("wpa3", ssid=ssid)
    if key_mgmt.startswith(("wpa-eap", "ieee8021x")):
        return passed("enterprise", ssid=ssid, key_mgmt=key_mgmt)
    if pairwise and "ccmp" not in pairwise:
        return fail("tkip", ssid=ssid, detail=f"pairwise={pairwise}")
    if proto == "wpa":
        return fail("tkip", ssid=ssid, detail="proto=wpa (WPA1)")
    if rsn:
        if "pair_ccmp" in rsn or "pair_gcmp" in rsn:
            return passed("wpa2", ssid=ssid, detail=rsn)
        return fail("tkip", ssid=ssid, detail=rsn)
    if wpa:
        return fail("tkip", ssid=ssid, detail=f"WPA1 : {wpa}")
    if proto == "rsn" and pairwise == "ccmp":
        return passed("wpa2", ssid=ssid, detail="proto=rsn pairwise=ccmp")
    return unknown("negotiation_unknown", ssid=ssid)


@check("WIFI-02", reasons=("key_long", "key_short", "no_shared_key", "key_unknown", "no_wifi_here", "key_not_read"))
def wifi_key(ctx: CheckContext) -> Outcome:
    conn = ctx.optional("wifi.connection")
    if (
        conn is not None
        and conn.status is FactStatus.observed
        and str(conn.value.get("key_mgmt", "")).startswith(("wpa-eap", "ieee8021x"))
    ):
        return ctx.with_answer(passed("no_shared_key"))
    fact = ctx.optional("wifi.key_length")
    if fact is None and conn is not None and conn.status is FactStatus.observed:
        # Connected, but this system's collector does not read the key length: the answer decides.
        decided = ctx.answer_or_needs()
        return Outcome(decided.verdict, "key_not_read", {**decided.values, "ssid": _ssid(conn.value)})
    if fact is None and conn is not None and conn.status is FactStatus.unknown:
        return ctx.with_answer(unknown("key_unknown", detail=conn.detail or "WiFi non observé"))
    if fact is None or fact.status is FactStatus.not_applicable:
        decided = ctx.answer_or_needs()
        return Outcome(decided.verdict, "no_wifi_here", decided.values)
    if fact.status is FactStatus.unknown:
        return ctx.with_answer(unknown("key_unknown", detail=fact.detail))
    length = int(fact.value.get("length", 0))
    if length < MIN_KEY_LENGTH:
        return fail("key_short", length=length)
    return ctx.with_answer(passed("key_long", length=length))
