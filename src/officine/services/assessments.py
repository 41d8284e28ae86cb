"""The pharmacy's current assessment as the dashboard keeps it: the latest snapshot of every
workstation, the answers and exceptions given on the page, the backup records, judged by the
same evaluate() as the command line, and recorded in the history whenever something changed."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import PurePath
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from officine import snapshot as snapshots_mod
from officine.answers import AcceptedException, AnswerOrigin, Answers
from officine.errors import UserError
from officine.evaluate import Assessment, evaluate
from officine.reference import load_reference
from officine.services.audit import Knowledge, answers_json, collect_local, load_knowledge
from officine.snapshot import Snapshot
from officine.store import Store
from officine.store.models import AnswerRow, AuditRow, ExceptionRow, HostRow, ProofRow, SettingRow, SnapshotRow

# A verdict can go stale with time alone (backup age, exception expiry, end of OS support).
REFRESH_AFTER = timedelta(hours=1)
MAX_PROOF_BYTES = 5 * 1024 * 1024
PROOF_TYPES = {  # detected from the content, never from the name the browser sends
    b"%PDF-": ("application/pdf", ".pdf"),
    b"\x89PNG\r\n\x1a\n": ("image/png", ".png"),
    b"\xff\xd8\xff": ("image/jpeg", ".jpg"),
}


@dataclass(frozen=True)
class CurrentAudit:
    id: int
    created_at: datetime
    assessment: dict[str, Any]


@dataclass(frozen=True)
class ProofInfo:
    id: int
    filename: str
    size: int
    uploaded_by: str
    uploaded_at: datetime


@dataclass(frozen=True)
class GivenAnswer:
    question_id: str
    value: str
    by: str
    at: datetime
    proof: ProofInfo | None


@lru_cache(maxsize=64)
def _snapshot(store: Store, snapshot_id: str) -> Snapshot:
    """A stored snapshot with its facts re-derived: tens of milliseconds, and snapshots never change."""
    with Session(store.engine) as session:
        row = session.execute(
            select(SnapshotRow.document, SnapshotRow.packed).where(SnapshotRow.id == snapshot_id)
        ).one()
    document = store.snapshot_documents([(snapshot_id, row.document, row.packed)])[snapshot_id]
    return snapshots_mod.reanalyse(snapshots_mod.parse(document, PurePath("base")))


class Pharmacy:
    """One pharmacy's data in one store. Writes are serialised: one assessment at a time."""

    def __init__(self, store: Store, knowledge: Knowledge | None = None) -> None:
        self.store = store
        self.knowledge = knowledge or load_knowledge()
        self._write = threading.Lock()
        self._checked_at: datetime | None = None

    # -- reading ------------------------------------------------------------------------------
    def latest_audit(self) -> CurrentAudit | None:
        with Session(self.store.engine) as session:
            row = session.scalars(
                select(AuditRow).order_by(AuditRow.created_at.desc(), AuditRow.id.desc()).limit(1)
            ).first()
            return None if row is None else CurrentAudit(row.id, _aware(row.created_at), dict(row.assessment))

    def current(self, now: datetime | None = None) -> CurrentAudit | None:
        """The latest assessment, re-judged first when time alone may have changed a verdict."""
        now = now or datetime.now(UTC)
        latest = self.latest_audit()
        if latest is None:
            return None
        fresh = (
            latest.created_at > now - REFRESH_AFTER and latest.assessment.get("evaluated_on") == now.date().isoformat()
        )
        checked = self._checked_at is not None and self._checked_at > now - REFRESH_AFTER
        newest = self._latest_snapshot_ids()
        if (fresh or checked or not newest) and self._covers(latest, newest):
            return latest
        self.reassess(now=now)
        self._checked_at = now
        return self.latest_audit()

    @staticmethod
    def _covers(audit: CurrentAudit, newest: list[str]) -> bool:
        """Whether an audit judged the newest snapshot of every workstation (a command-line audit
        of one machine does not: the dashboard then re-judges the whole pharmacy)."""
        judged = {h.get("snapshot_id") for h in audit.assessment.get("hosts", [])}
        return judged >= set(newest)

    def _latest_snapshot_ids(self) -> list[str]:
        with Session(self.store.engine) as session:
            return list(session.scalars(_newest_per_host(SnapshotRow.id)))

    def has_snapshots(self) -> bool:
        with Session(self.store.engine) as session:
            return bool(session.scalar(select(func.count()).select_from(SnapshotRow)))

    def latest_snapshots(self) -> list[Snapshot]:
        """The newest snapshot of each workstation, facts re-derived from its observations."""
        snaps: dict[str, Snapshot] = {}
        for sid in self._latest_snapshot_ids():
            snap = _snapshot(self.store, sid)
            snaps.setdefault(str(snap.host.get("machine_id_sha256") or snap.hostname), snap)
        return list(snaps.values())

    def _current_answers(self, session: Session) -> tuple[list[AnswerRow], dict[int, ProofInfo]]:
        """The latest answer to each question (answers are append-only) and their proofs."""
        latest_ids = select(func.max(AnswerRow.id)).group_by(AnswerRow.question_id)
        rows = list(session.scalars(select(AnswerRow).where(AnswerRow.id.in_(latest_ids))))
        proofs = session.execute(
            select(ProofRow.id, ProofRow.filename, ProofRow.size, ProofRow.uploaded_by, ProofRow.uploaded_at).where(
                ProofRow.id.in_([r.proof_id for r in rows if r.proof_id])
            )
        ).all()
        return rows, {p.id: ProofInfo(p.id, p.filename, p.size, p.uploaded_by, _aware(p.uploaded_at)) for p in proofs}

    def answers(self) -> Answers:
        with Session(self.store.engine) as session:
            rows, proofs = self._current_answers(session)
            exceptions = self._active_exceptions(session)
        questions = self._questions()
        values: dict[str, str] = {}
        origins: dict[str, AnswerOrigin] = {}
        for r in rows:
            question = questions.get(r.question_id)
            if question is None or r.value not in {c.value for c in question.choices}:
                continue  # the catalogue changed since: the question is asked again
            values[r.question_id] = r.value
            proof = proofs.get(r.proof_id) if r.proof_id else None
            origins[r.question_id] = AnswerOrigin(
                r.answered_by, _aware(r.answered_at), proof.filename if proof else None
            )
        usb = self._approved_usb()
        return Answers(
            values=values,
            exceptions=exceptions,
            origins=origins,
            approved_usb_devices=usb[0] if usb else None,
            answered_by=usb[1] if usb else None,
        )

    def _approved_usb(self) -> tuple[list[str], str] | None:
        """The USB devices the pharmacy declared as its own (settings page), and who declared them."""
        with Session(self.store.engine) as session:
            row = session.get(SettingRow, "approved_usb")
            if row is None or row.value is None:
                return None
            return [str(v) for v in row.value], row.updated_by

    def given_answers(self) -> dict[str, GivenAnswer]:
        with Session(self.store.engine) as session:
            rows, proofs = self._current_answers(session)
        return {
            r.question_id: GivenAnswer(
                r.question_id, r.value, r.answered_by, _aware(r.answered_at), proofs.get(r.proof_id or 0)
            )
            for r in rows
        }

    def proof(self, proof_id: int) -> tuple[str, str, bytes] | None:
        with Session(self.store.engine) as session:
            p = session.get(ProofRow, proof_id)
            return None if p is None else (p.filename, p.content_type, p.data)

    def _active_exceptions(self, session: Session) -> dict[str, AcceptedException]:
        rows = session.scalars(
            select(ExceptionRow).where(ExceptionRow.withdrawn_at.is_(None)).order_by(ExceptionRow.id)
        ).all()
        return {
            r.measure_id: AcceptedException(
                measure=r.measure_id, justification=r.justification, by=r.decided_by, date=r.decided_on, until=r.until
            )
            for r in rows
        }

    def _questions(self) -> dict[str, Any]:
        return {q.id: q for p in self.knowledge.catalogue.practices for m in p.measures for q in m.questions}

    def _measures(self) -> dict[str, Any]:
        return {m.id: m for p in self.knowledge.catalogue.practices for m in p.measures}

    # -- judging ------------------------------------------------------------------------------
    def evaluate(self, snapshots: list[Snapshot], now: datetime) -> tuple[Assessment, Answers]:
        from officine.services.backup import site_facts  # noqa: PLC0415 - opens the store only with a plan

        answers = self.answers()
        k = self.knowledge
        from officine.services.passwords import site_facts as password_facts  # noqa: PLC0415

        site = {**answers.site_facts(), **site_facts(store=self.store, now=now), **password_facts(self.store, now)}
        assessment = evaluate(k.catalogue, snapshots, answers, k.checks, k.messages, load_reference(), now.date(), site)
        return assessment, answers

    def reassess(self, extra: list[Snapshot] | None = None, now: datetime | None = None, force: bool = False) -> int:
        """Judge the latest snapshot of every workstation (plus new ones) and record the result
        when it differs from the latest audit (or new snapshots came in). Returns the audit id."""
        now = now or datetime.now(UTC)
        with self._write:
            snaps = _merge(self.latest_snapshots(), extra or [])
            assessment, answers = self.evaluate(snaps, now)
            document = assessment.to_json()
            latest = self.latest_audit()
            if latest is not None and not extra and not force and _same(latest.assessment, document):
                return latest.id
            return self.store.record_audit([s.to_json() for s in snaps], document, answers_json(answers))

    # -- writing ------------------------------------------------------------------------------
    def record_answer(self, question_id: str, value: str, by: str, proof: tuple[str, bytes] | None = None) -> int:
        question = self._questions().get(question_id)
        if question is None:
            raise UserError(f"La question « {question_id} » n'existe pas. Rechargez la page.")
        if value not in {c.value for c in question.choices}:
            raise UserError("Choisissez une des réponses proposées. Rien n'a été enregistré.")
        stored_proof = _check_proof(*proof) if proof else None
        now = datetime.now(UTC)
        with Session(self.store.engine) as session, session.begin():
            proof_id = None
            if stored_proof is not None:
                name, content_type, data = stored_proof
                row = ProofRow(
                    question_id=question_id,
                    filename=name,
                    content_type=content_type,
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    data=data,
                    uploaded_by=by,
                    uploaded_at=now,
                )
                session.add(row)
                session.flush()
                proof_id = row.id
            session.add(
                AnswerRow(question_id=question_id, value=value, answered_by=by, answered_at=now, proof_id=proof_id)
            )
        return self.reassess(now=now)

    def set_exception(self, measure_id: str, justification: str, until: str, by: str, today: date | None = None) -> int:
        if measure_id not in self._measures():
            raise UserError(f"La mesure « {measure_id} » n'existe pas. Rechargez la page.")
        today = today or datetime.now(UTC).date()
        try:
            end = date.fromisoformat(until) if until.strip() else None
        except ValueError as exc:
            raise UserError("Date de fin invalide : utilisez le calendrier (jj/mm/aaaa).") from exc
        try:
            accepted = AcceptedException(measure=measure_id, justification=justification, by=by, date=today, until=end)
        except ValidationError as exc:
            raise UserError(
                "Justification trop courte : expliquez en une phrase pourquoi cette mesure est écartée "
                "(au moins 10 caractères). Rien n'a été enregistré."
            ) from exc
        if end is not None and end < today:
            raise UserError("La date de fin est déjà passée. Rien n'a été enregistré.")
        now = datetime.now(UTC)
        with Session(self.store.engine) as session, session.begin():
            for row in session.scalars(
                select(ExceptionRow).where(ExceptionRow.measure_id == measure_id, ExceptionRow.withdrawn_at.is_(None))
            ):
                row.withdrawn_at, row.withdrawn_by = now, by  # replaced, kept in the history
            session.add(
                ExceptionRow(
                    measure_id=measure_id,
                    justification=accepted.justification,
                    decided_by=by,
                    decided_on=today,
                    until=end,
                    recorded_at=now,
                )
            )
        return self.reassess(now=now)

    def withdraw_exception(self, measure_id: str, by: str) -> int:
        now = datetime.now(UTC)
        with Session(self.store.engine) as session, session.begin():
            rows = session.scalars(
                select(ExceptionRow).where(ExceptionRow.measure_id == measure_id, ExceptionRow.withdrawn_at.is_(None))
            ).all()
            if not rows:
                raise UserError("Cette mesure n'a pas d'exception en cours.")
            for row in rows:
                row.withdrawn_at, row.withdrawn_by = now, by
        return self.reassess(now=now)

    def import_snapshot(self, raw: bytes, filename: str) -> tuple[int, Snapshot]:
        """A file brought from another workstation: checked (format, seal), re-derived, recorded."""
        name = PurePath(filename or "instantané").name
        if len(raw) > snapshots_mod.MAX_SNAPSHOT_BYTES:
            raise UserError(f"Le fichier {name} est trop gros pour être un instantané. Rien n'a été importé.")
        snap = snapshots_mod.reanalyse(snapshots_mod.loads(raw, PurePath(name)))
        return self.reassess(extra=[snap]), snap

    def audit_this_machine(self, progress: Callable[[str], None] | None = None) -> tuple[int, Snapshot]:
        snap = collect_local(None, progress)
        return self.reassess(extra=[snap]), snap

    # -- workstations and history ---------------------------------------------------------------
    def hosts(self) -> list[dict[str, Any]]:
        with Session(self.store.engine) as session:
            counts = dict(
                session.execute(select(SnapshotRow.host_id, func.count()).group_by(SnapshotRow.host_id)).all()
            )
            return [
                {
                    "id": h.id,
                    "hostname": h.hostname,
                    "platform": h.platform,
                    "first_seen": _aware(h.first_seen),
                    "last_seen": _aware(h.last_seen),
                    "snapshots": counts.get(h.id, 0),
                }
                for h in session.scalars(select(HostRow).order_by(HostRow.last_seen.desc()))
            ]

    def score_series(self, since: datetime | None = None) -> list[tuple[datetime, int]]:
        """One point per day (the day's last scored audit), for the chart. Grouped by the
        database: a year of hourly audits is 8,760 rows, a year of points is 365."""
        with Session(self.store.engine) as session:
            last_of_day = select(func.max(AuditRow.id)).where(AuditRow.score.is_not(None))
            if since is not None:
                last_of_day = last_of_day.where(AuditRow.created_at >= since)
            last_of_day = last_of_day.group_by(func.date(AuditRow.created_at))
            rows = session.execute(
                select(AuditRow.created_at, AuditRow.score)
                .where(AuditRow.id.in_(last_of_day))
                .order_by(AuditRow.created_at)
            ).all()
        return [(_aware(at), int(score)) for at, score in rows if score is not None]

    def recent_audits(self, limit: int = 30) -> list[tuple[int, datetime, int | None]]:
        with Session(self.store.engine) as session:
            rows = session.execute(
                select(AuditRow.id, AuditRow.created_at, AuditRow.score)
                .order_by(AuditRow.created_at.desc(), AuditRow.id.desc())
                .limit(limit)
            ).all()
        return [(int(i), _aware(at), s) for i, at, s in rows]

    def audit_document(self, audit_id: int) -> dict[str, Any] | None:
        return self.store.audit(audit_id)


def _newest_per_host(*columns: Any) -> Any:
    """The newest snapshot of each workstation: hosts.last_seen is its collection time, so this
    is one index lookup per workstation however long the history."""
    return (
        select(*columns)
        .join(HostRow, (SnapshotRow.host_id == HostRow.id) & (SnapshotRow.collected_at == HostRow.last_seen))
        .order_by(HostRow.id)
    )


def _merge(latest: list[Snapshot], extra: list[Snapshot]) -> list[Snapshot]:
    by_host = {_host_key(s): s for s in latest}
    for snap in extra:
        current = by_host.get(_host_key(snap))
        if current is None or snap.collected_at >= current.collected_at:
            by_host[_host_key(snap)] = snap
    return list(by_host.values())


def _host_key(snap: Snapshot) -> str:
    return str(snap.host.get("machine_id_sha256") or f"name:{snap.hostname}")


def _same(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Same verdicts, same evidence, same exceptions: nothing worth a new line in the history."""

    def key(doc: dict[str, Any]) -> Any:
        return (
            doc.get("score"),
            [(m["id"], m["verdict"], m["evidence"], m["exception"]) for m in doc.get("measures", [])],
        )

    return bool(key(old) == key(new))


def _check_proof(filename: str, data: bytes) -> tuple[str, str, bytes]:
    if not data:
        raise UserError("Le fichier de preuve est vide. Rien n'a été enregistré.")
    if len(data) > MAX_PROOF_BYTES:
        raise UserError(
            f"Le fichier de preuve dépasse {MAX_PROOF_BYTES // (1024 * 1024)} Mo. "
            "Réduisez-le (scan en noir et blanc, PDF compressé). Rien n'a été enregistré."
        )
    for magic, (content_type, suffix) in PROOF_TYPES.items():
        if data.startswith(magic):
            stem = PurePath(filename or "preuve").stem[:100] or "preuve"
            safe = "".join(c if c.isalnum() or c in "-_ " else "_" for c in stem).strip() or "preuve"
            return safe + suffix, content_type, data
    raise UserError("Type de fichier refusé : seuls les PDF, PNG et JPEG sont acceptés. Rien n'a été enregistré.")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
