"""SPF, DKIM and DMARC as the pharmacy's own receiving server recorded them.

Anyone can write an Authentication-Results header into the message they send. Only the header
added by the server that received the message for the pharmacy can be believed: the receiving
server puts its own header on top and, as RFC 8601 §5 requires of it, removes any header
claiming its name that arrived from outside. So the one trusted header is the topmost one, and
only when it carries the name (authserv-id) of the server the pharmacy configured and sits above
the headers the sender writes (From, Subject, Date…). Every other one is listed as ignored: the
sender could have written it. A server that keeps foreign headers with its own name cannot be
protected against a sender who puts one on top of their message; see docs."""

from __future__ import annotations

import re
from dataclasses import dataclass

import authres

from officine.mail.findings import Finding
from officine.mail.parse import Mail

_FAILS = {"fail", "softfail"}
_ORIGIN_HEADERS = {"from", "subject", "date", "message-id", "mime-version", "to"}
_LOOSE_RESULT = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)
_LOOSE_PROP = re.compile(r"\b(header\.from|smtp\.mailfrom|header\.d)\s*=\s*([^\s;()]+)", re.IGNORECASE)


@dataclass
class Results:
    server: str
    results: list[tuple[str, str, dict[str, str]]]  # (method, result, properties)


def _parse(value: str) -> Results:
    """One header value; a malformed one is read loosely (the server name is then the text
    before the first semicolon, never trusted if it does not match)."""
    try:
        parsed = authres.AuthenticationResultsHeader.parse("Authentication-Results: " + value)
        return Results(
            str(parsed.authserv_id or ""),
            [
                (
                    str(r.method).lower(),
                    str(r.result).lower(),
                    {f"{p.type}.{p.name}".lower(): str(p.value) for p in r.properties},
                )
                for r in parsed.results
            ],
        )
    except Exception:  # authres raises its own SyntaxError and others on malformed input
        head = value.split(";", 1)[0].strip()
        server = head if "=" not in head else ""
        props = {k.lower(): v for k, v in _LOOSE_PROP.findall(value)}
        return Results(server, [(m.lower(), r.lower(), props) for m, r in _LOOSE_RESULT.findall(value)])


def _domain(value: str) -> str:
    return value.rpartition("@")[2].strip().strip("<>").lower()


def trusted_servers(configured: str | None) -> list[str]:
    return [s.strip().lower() for s in (configured or "").split(",") if s.strip()]


def _positioned(mail: Mail) -> tuple[list[Results], int]:
    """The Authentication-Results headers from the top, and how many of them come before the
    first header only the sender writes (From, Subject, Date...): one below it was written at
    the origin, never by a server on the way."""
    found: list[Results] = []
    above_origin = None
    for name, value in mail.headers:
        lowered = name.lower()
        if lowered in _ORIGIN_HEADERS and above_origin is None:
            above_origin = len(found)
        if lowered == "authentication-results" and len(found) < 20:
            found.append(_parse(value))
    return found, len(found) if above_origin is None else above_origin


def check_auth(mail: Mail, configured: str | None) -> list[Finding]:
    servers = trusted_servers(configured)
    shown = ", ".join(servers)
    headers, in_transit = _positioned(mail)
    if not servers:
        cause = "aucun serveur de confiance n'est réglé pour la pharmacie"
        if headers:
            cause += (
                f" ; les {len(headers)} en-tête(s) d'authentification du message ne sont pas lus,"
                " car l'expéditeur a pu les écrire lui-même"
            )
        return [Finding.of("auth_non_verifiee", cause=cause + ".")]
    found: list[Finding] = []
    top = headers[0] if headers else None
    trusted = top if top is not None and in_transit > 0 and top.server.lower() in servers else None
    ignored = [h.server or "sans nom" for h in headers if h is not trusted]
    if ignored:
        found.append(
            Finding.of(
                "auth_entete_ignore", nombre=str(len(ignored)), serveurs=", ".join(sorted(set(ignored))), serveur=shown
            )
        )
    if trusted is None:
        cause = (
            f"le message ne porte pas d'en-tête d'authentification de {shown}, le serveur de confiance réglé."
            if top is None
            else f"le premier en-tête d'authentification vient de « {top.server or 'sans nom'} », "
            f"pas de {shown}, le serveur de confiance réglé."
        )
        found.append(Finding.of("auth_non_verifiee", cause=cause))
        return found
    server = trusted.server
    by_method: dict[str, tuple[str, dict[str, str]]] = {}
    for method, result, props in trusted.results:
        previous = by_method.get(method)
        if previous is None or (previous[0] != "pass" and result == "pass"):  # one valid DKIM signature suffices
            by_method[method] = (result, props)
    sender_domain = mail.sender.domain if mail.sender else ""
    dmarc = by_method.get("dmarc")
    spf = by_method.get("spf")
    dkim = by_method.get("dkim")
    if dmarc and dmarc[0] in _FAILS | {"quarantine", "reject"}:
        found.append(
            Finding.of(
                "auth_dmarc_echec",
                serveur=server,
                domaine=_domain(dmarc[1].get("header.from", sender_domain)),
                resultat=dmarc[0],
            )
        )
    if spf and spf[0] == "fail":
        found.append(
            Finding.of(
                "auth_spf_echec",
                serveur=server,
                domaine=_domain(spf[1].get("smtp.mailfrom", sender_domain)),
                resultat=spf[0],
            )
        )
    if dkim and dkim[0] == "fail":
        found.append(Finding.of("auth_dkim_echec", serveur=server, resultat=dkim[0]))
    if (
        (not spf or spf[0] in ("none", "neutral"))
        and (not dkim or dkim[0] == "none")
        and not (dmarc and dmarc[0] == "pass")
    ):
        found.append(Finding.of("auth_absente", serveur=server))
    passed = [m.upper() for m in ("spf", "dkim", "dmarc") if by_method.get(m, ("", {}))[0] == "pass"]
    if passed and not any(f.code in ("auth_dmarc_echec", "auth_spf_echec", "auth_dkim_echec") for f in found):
        domain = _domain(dmarc[1].get("header.from", sender_domain)) if dmarc else sender_domain
        found.append(
            Finding.of("auth_reussie", serveur=server, domaine=domain or "inconnu", methodes=", ".join(passed))
        )
    return found
