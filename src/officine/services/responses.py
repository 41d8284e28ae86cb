"""What people said on the dashboard: answers (append-only, the latest counts), their proofs,
accepted exceptions and the pharmacy's declared USB devices, as stored in the database."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import PurePath

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from officine.answers import AcceptedException, AnswerOrigin, Answers
from officine.catalogue.model import Question
from officine.errors import UserError
from officine.store import Store
from officine.store.models import AnswerRow, ExceptionRow, ProofRow, SettingRow

MAX_PROOF_BYTES = 5 * 1024 * 1024
PROOF_TYPES = {  # detected from the content, never from the name the browser sends
    b"%PDF-": ("application/pdf", ".pdf"),
    b"\x89PNG\r\n\x1a\n": ("image/png", ".png"),
    b"\xff\xd8\xff": ("image/jpeg", ".jpg"),
}


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


def aware(value: datetime) -> datetime:
    """SQLite keeps no offset: every time in the database is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Responses:
    """The answers book of one pharmacy, checked against its catalogue's questions."""

    def __init__(self, store: Store, questions: dict[str, Question], measure_ids: set[str]) -> None:
        self.store = store
        self.questions = questions
        self.measure_ids = measure_ids

    # -- reading ------------------------------------------------------------------------------
    def _current(self, session: Session) -> tuple[list[AnswerRow], dict[int, ProofInfo]]:
        """The latest answer to each question and their proofs."""
        latest_ids = select(func.max(AnswerRow.id)).group_by(AnswerRow.question_id)
        rows = list(session.scalars(select(AnswerRow).where(AnswerRow.id.in_(latest_ids))))
        proofs = session.execute(
            select(ProofRow.id, ProofRow.filename, ProofRow.size, ProofRow.uploaded_by, ProofRow.uploaded_at).where(
                ProofRow.id.in_([r.proof_id for r in rows if r.proof_id])
            )
        ).all()
        return rows, {p.id: ProofInfo(p.id, p.filename, p.size, p.uploaded_by, aware(p.uploaded_at)) for p in proofs}

    def answers(self) -> Answers:
        with Session(self.store.engine) as session:
            rows, proofs = self._current(session)
            exceptions = self._active_exceptions(session)
            usb = session.get(SettingRow, "approved_usb")
            declared = None if usb is None or usb.value is None else ([str(v) for v in usb.value], usb.updated_by)
        values: dict[str, str] = {}
        origins: dict[str, AnswerOrigin] = {}
        for r in rows:
            question = self.questions.get(r.question_id)
            if question is None or r.value not in {c.value for c in question.choices}:
                continue  # the catalogue changed since: the question is asked again
            values[r.question_id] = r.value
            proof = proofs.get(r.proof_id) if r.proof_id else None
            origins[r.question_id] = AnswerOrigin(
                r.answered_by, aware(r.answered_at), proof.filename if proof else None
            )
        return Answers(
            values=values,
            exceptions=exceptions,
            origins=origins,
            approved_usb_devices=declared[0] if declared else None,
            answered_by=declared[1] if declared else None,
        )

    def given(self) -> dict[str, GivenAnswer]:
        with Session(self.store.engine) as session:
            rows, proofs = self._current(session)
        return {
            r.question_id: GivenAnswer(
                r.question_id, r.value, r.answered_by, aware(r.answered_at), proofs.get(r.proof_id or 0)
            )
            for r in rows
        }

    def proof(self, proof_id: int) -> tuple[str, str, bytes] | None:
        with Session(self.store.engine) as session:
            p = session.get(ProofRow, proof_id)
            return None if p is None else (p.filename, p.content_type, p.data)

    @staticmethod
    def _active_exceptions(session: Session) -> dict[str, AcceptedException]:
        rows = session.scalars(
            select(ExceptionRow).where(ExceptionRow.withdrawn_at.is_(None)).order_by(ExceptionRow.id)
        ).all()
        return {
            r.measure_id: AcceptedException(
                measure=r.measure_id, justification=r.justification, by=r.decided_by, date=r.decided_on, until=r.until
            )
            for r in rows
        }

    # -- writing ------------------------------------------------------------------------------
    def record_answer(
        self, question_id: str, value: str, by: str, proof: tuple[str, bytes] | None, now: datetime
    ) -> None:
        question = self.questions.get(question_id)
        if question is None:
            raise UserError(f"La question « {question_id} » n'existe pas. Rechargez la page.")
        if value not in {c.value for c in question.choices}:
            raise UserError("Choisissez une des réponses proposées. Rien n'a été enregistré.")
        stored_proof = check_proof(*proof) if proof else None
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

    def set_exception(
        self, measure_id: str, justification: str, until: str, by: str, today: date, now: datetime
    ) -> None:
        if measure_id not in self.measure_ids:
            raise UserError(f"La mesure « {measure_id} » n'existe pas. Rechargez la page.")
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

    def withdraw_exception(self, measure_id: str, by: str, now: datetime) -> None:
        with Session(self.store.engine) as session, session.begin():
            rows = session.scalars(
                select(ExceptionRow).where(ExceptionRow.measure_id == measure_id, ExceptionRow.withdrawn_at.is_(None))
            ).all()
            if not rows:
                raise UserError("Cette mesure n'a pas d'exception en cours.")
            for row in rows:
                row.withdrawn_at, row.withdrawn_by = now, by


def check_proof(filename: str, data: bytes) -> tuple[str, str, bytes]:
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
