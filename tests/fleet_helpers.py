"""Fleet test helpers: a fleet database on the throw-away PostgreSQL server, organisations,
pharmacies and people, snapshots made from the stored fixtures, and signed messages."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePath
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text

from officine import snapshot
from officine.fleet import agents, directory, jobs, message, signing
from officine.fleet.directory import Access
from officine.fleet.tenancy import Fleet
from officine.fleet.work import HANDLERS
from officine.services.accounts import SignedIn, hash_password
from officine.store.models import UserRow

FIXTURES = Path(__file__).parent / "fixtures/snapshots"
PASSWORD = "Lavande-Comptoir-Pilon-42"


def new_database(server_url: str) -> str:
    """A fresh database on the test server (one per test: nothing shared between tests)."""
    name = f"parc_{uuid.uuid4().hex[:10]}"
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def fixture_document(name: str) -> dict[str, Any]:
    """A stored fixture as a plain sealed snapshot (a Windows envelope opened)."""
    raw = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    if raw.get("format") == snapshot.ENVELOPE:
        raw = snapshot.open_envelope(raw, PurePath(name))
    return dict(raw)


def variant(
    document: dict[str, Any], *, hostname: str | None = None, machine: str | None = None, at: datetime | None = None
) -> dict[str, Any]:
    """The same observations as another collection: new id and time, another machine if asked,
    sealed again (as `officine collect` would have sealed it)."""
    doc: dict[str, Any] = json.loads(json.dumps(document))
    doc["snapshot_id"] = str(uuid.uuid4())
    doc["collected_at"] = (at or datetime.now(UTC).replace(microsecond=0)).isoformat()
    host = dict(doc.get("host") or {})
    if hostname is not None:
        host["hostname"] = hostname
    if machine is not None:
        host["machine_id_sha256"] = hashlib.sha256(machine.encode()).hexdigest()
    doc["host"] = host
    doc.pop("integrity", None)
    doc["integrity"] = {"algorithm": "sha256", "digest": snapshot.digest(doc)}
    return doc


def envelope_of(document: dict[str, Any]) -> bytes:
    """A PowerShell-style envelope (sealed exact bytes) of a snapshot."""
    payload = json.dumps({k: v for k, v in document.items() if k != "integrity"}).encode()
    return json.dumps(
        {
            "format": snapshot.ENVELOPE,
            "sha256": hashlib.sha256(payload).hexdigest(),
            "payload": base64.b64encode(payload).decode(),
        }
    ).encode()


def person(fleet: Fleet, username: str, role: str, organisation_id: int, pharmacy_id: int | None = None) -> Access:
    """An account with a known password and its membership, as the console would make it."""
    from officine.fleet.models import MembershipRow

    with fleet.transaction() as session:
        user = UserRow(
            username=username,
            password_hash=hash_password(PASSWORD),
            created_at=datetime.now(UTC),
            role="lecture",
            created_by="test",
        )
        session.add(user)
        session.flush()
        session.add(MembershipRow(user_id=user.id, role=role, organisation_id=organisation_id, pharmacy_id=pharmacy_id))
        user_id = user.id
    return Access(SignedIn(user_id, username, "csrf"), role, organisation_id, pharmacy_id)


class Agent:
    """An enrolled agent in the test's hands: its key, id and tenant."""

    def __init__(self, fleet: Fleet, token: str, hostname: str) -> None:
        self.key = Ed25519PrivateKey.generate()
        public = self.key.public_key().public_bytes_raw()
        enrolled = agents.enrol(fleet, token, public, hostname, "127.0.0.1")
        self.id, self.tenant = enrolled.agent, enrolled.tenant
        self.sequence = 0

    def body(self, document: dict[str, Any] | None, events: list[dict[str, Any]] | None = None) -> bytes:
        self.sequence += 1
        built = message.build(
            self.sequence, datetime.now(UTC), document, [message.Event.model_validate(e) for e in events or []]
        )
        return json.dumps(built).encode()

    def headers(self, body: bytes, *, tenant: str | None = None, now: float | None = None) -> dict[str, str]:
        return signing.sign(self.key, self.id, tenant or self.tenant, body, now)


def run_jobs(fleet: Fleet) -> int:
    return jobs.run_pending(fleet, HANDLERS)


def provider(fleet: Fleet, name: str) -> tuple[int, Access]:
    organisation = directory.create_organisation(fleet, name)
    return organisation, person(fleet, f"admin-{re.sub(r'[^a-z]', '', name.lower())[:20]}", "admin", organisation)


def enrolment_token(fleet: Fleet, access: Access, pharmacy_id: int) -> str:
    return agents.create_token(fleet, access, pharmacy_id).token


def old(minutes: int) -> float:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).timestamp()
