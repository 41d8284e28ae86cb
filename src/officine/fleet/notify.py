"""Sending an organisation's new alerts together: one e-mail through the SMTP relay the server
was given, one webhook call (JSON, signed with HMAC-SHA256). A channel that fails is tried again
by the job later; one that succeeded is not sent twice for the same alerts."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select, update

from officine import dates
from officine.errors import UserError
from officine.fleet.alerts import KINDS
from officine.fleet.models import AlertRow, FleetPharmacyRow, NotificationRow, OrganisationRow
from officine.fleet.tenancy import Fleet
from officine.paths import config_dir

ENV_RELAY = "OFFICINE_FLEET_SMTP"  # JSON written by `officine fleet serve` for its processes
ENV_SECRET_FILE = "OFFICINE_FLEET_SECRET_FILE"  # noqa: S105 - the name of a variable
TIMEOUT_S = 20
WEBHOOK_SIGNATURE = "X-Officine-Signature"


@dataclass(frozen=True)
class Relay:
    host: str
    port: int = 587
    security: str = "starttls"  # starttls, tls, aucune (loopback relays only)
    username: str | None = None
    password_file: str | None = None
    sender: str = "officine-cyber@localhost"
    ca_file: str | None = None

    def check(self) -> None:
        if self.security not in ("starttls", "tls", "aucune"):
            raise UserError("Sécurité du relais SMTP : starttls, tls ou aucune.")
        if self.security == "aucune" and not is_loopback(self.host):
            raise UserError(
                "Un relais SMTP sans chiffrement n'est accepté que sur ce serveur (127.0.0.1) : "
                "choisissez --smtp-securite starttls ou tls."
            )
        if self.password_file and not Path(self.password_file).is_file():
            raise UserError(f"Le fichier du mot de passe SMTP {self.password_file} n'existe pas.")


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def relay_from_environment() -> Relay | None:
    raw = os.environ.get(ENV_RELAY)
    return Relay(**json.loads(raw)) if raw else None


def check_webhook_url(url: str) -> str:
    url = url.strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 500:
        raise UserError("Adresse du webhook invalide : https://serveur/chemin. Rien n'a été enregistré.")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UserError("Le webhook doit être en https (http seulement sur ce serveur). Rien n'a été enregistré.")
    return url


def _master_secret() -> bytes:
    path = Path(os.environ.get(ENV_SECRET_FILE) or config_dir() / "parc-webhook.key")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it at the same moment
        else:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


def webhook_key(organisation_id: int) -> str:
    """The organisation's webhook signing key (derived from the server's secret: nothing to store)."""
    return hmac.new(_master_secret(), f"webhook:{organisation_id}".encode(), hashlib.sha256).hexdigest()


def _lines(rows: list[tuple[AlertRow, str]]) -> list[str]:
    lines: list[str] = []
    current = None
    for alert, name in sorted(rows, key=lambda r: (r[1], r[0].id)):
        if name != current:
            lines += ["", f"{name}"]
            current = name
        lines.append(f"  - {KINDS.get(alert.kind, alert.kind)} ({dates.moment(alert.first_at)}) : {alert.text}")
    return lines


def email_of(relay: Relay, to: list[str], rows: list[tuple[AlertRow, str]]) -> EmailMessage:
    pharmacies = {name for _, name in rows}
    message = EmailMessage()
    s = "s" if len(rows) > 1 else ""
    message["Subject"] = (
        f"officine-cyber : {len(rows)} alerte{s} ({len(pharmacies)} pharmacie{'s' if len(pharmacies) > 1 else ''})"
    )
    message["From"] = relay.sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=relay.sender.rpartition("@")[2] or "localhost")
    body = [
        f"Bonjour,\n\n{len(rows)} nouvelle{s} alerte{s} sur le parc :",
        *_lines(rows),
        "",
        "Ouvrez la console du parc, page « Alertes », pour les voir en détail et les acquitter "
        "une fois prises en main.",
        "",
        "-- officine-cyber",
    ]
    message.set_content("\n".join(body))
    return message


def send_email(relay: Relay, message: EmailMessage) -> None:
    context = ssl.create_default_context(cafile=relay.ca_file) if relay.security != "aucune" else None
    smtp: smtplib.SMTP
    if relay.security == "tls":
        smtp = smtplib.SMTP_SSL(relay.host, relay.port, timeout=TIMEOUT_S, context=context)
    else:
        smtp = smtplib.SMTP(relay.host, relay.port, timeout=TIMEOUT_S)
    with smtp:
        if relay.security == "starttls":
            smtp.starttls(context=context)
        if relay.username:
            password = Path(relay.password_file).read_text(encoding="utf-8").strip() if relay.password_file else ""
            smtp.login(relay.username, password)
        smtp.send_message(message)


def webhook_body(organisation: str, rows: list[tuple[AlertRow, str]]) -> bytes:
    document: dict[str, Any] = {
        "format": "officine-cyber/alertes",
        "version": 1,
        "organisation": organisation,
        "alertes": [
            {
                "id": a.id,
                "pharmacie": name,
                "pharmacie_id": a.pharmacy_id,
                "type": a.kind,
                "titre": KINDS.get(a.kind, a.kind),
                "texte": a.text,
                "premiere": a.first_at.isoformat(),
                "derniere": a.last_at.isoformat(),
                "occurrences": a.occurrences,
            }
            for a, name in rows
        ],
    }
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def send_webhook(url: str, key: str, body: bytes) -> None:
    signature = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    response = httpx.post(
        url,
        content=body,
        headers={"Content-Type": "application/json", WEBHOOK_SIGNATURE: f"sha256={signature}"},
        timeout=TIMEOUT_S,
        follow_redirects=False,
    )
    response.raise_for_status()


def _already_sent(fleet: Fleet, organisation_id: int, channel: str, ids: list[int]) -> bool:
    with fleet.session() as session:
        sent = session.scalars(
            select(NotificationRow.alert_ids).where(
                NotificationRow.organisation_id == organisation_id,
                NotificationRow.channel == channel,
                NotificationRow.sent_at.is_not(None),
            )
        )
        return any(sorted(s) == ids for s in sent)


def _record(fleet: Fleet, organisation_id: int, channel: str, ids: list[int], error: str | None) -> None:
    now = datetime.now(UTC)
    with fleet.transaction() as session:
        session.add(
            NotificationRow(
                organisation_id=organisation_id,
                channel=channel,
                created_at=now,
                sent_at=None if error else now,
                alert_ids=ids,
                error=error,
            )
        )


def notify(fleet: Fleet, organisation_id: int, relay: Relay | None) -> int:
    """Send the organisation's alerts not yet sent; returns how many. Raises when a channel
    failed (the job tries again later; channels already done are not repeated)."""
    with fleet.session() as session:
        organisation = session.get_one(OrganisationRow, organisation_id)
        rows = [
            (a, name)
            for a, name in session.execute(
                select(AlertRow, FleetPharmacyRow.name)
                .join(FleetPharmacyRow, FleetPharmacyRow.id == AlertRow.pharmacy_id)
                .where(
                    AlertRow.organisation_id == organisation_id,
                    AlertRow.notified_at.is_(None),
                    AlertRow.acknowledged_at.is_(None),
                )
                .order_by(AlertRow.id)
            ).all()
        ]
        session.expunge_all()
    if not rows:
        return 0
    ids = sorted(a.id for a, _ in rows)
    failures = []
    channels: list[tuple[str, Any]] = []
    if organisation.alert_emails and relay is not None:
        channels.append(("courriel", lambda: send_email(relay, email_of(relay, organisation.alert_emails, rows))))
    if organisation.webhook_url:
        url = organisation.webhook_url
        channels.append(
            ("webhook", lambda: send_webhook(url, webhook_key(organisation_id), webhook_body(organisation.name, rows)))
        )
    for channel, send in channels:
        if _already_sent(fleet, organisation_id, channel, ids):
            continue
        try:
            send()
        except (OSError, smtplib.SMTPException, httpx.HTTPError, ssl.SSLError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            _record(fleet, organisation_id, channel, ids, error)
            failures.append(f"{channel}: {error}")
        else:
            _record(fleet, organisation_id, channel, ids, None)
    if failures:
        raise RuntimeError("; ".join(failures))
    with fleet.transaction() as session:
        session.execute(update(AlertRow).where(AlertRow.id.in_(ids)).values(notified_at=datetime.now(UTC)))
    return len(rows)
