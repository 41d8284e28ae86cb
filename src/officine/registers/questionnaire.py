"""The IT provider's security questionnaire, dated and signed (PAdES).

The path of one questionnaire:
1. the pharmacy asks (`request`): a request bound to a provider of the register, with a random
   nonce and a one-time link token (only its SHA-256 is kept), valid a few days;
2. the provider answers, on the dashboard through the link or offline from the form file
   (`form_document`), and signs: the answers become a PDF (`render_pdf`) that carries them as an
   embedded JSON file, signed with the provider's key (`signing.sign_pdf`); a provider without a
   certificate gets a self-signed one (`signing.create_identity`), and the page says so;
3. the pharmacy imports the signed PDF (`import_signed`): signature, signer and integrity are
   verified (`signing.verify_pdf`), the nonce must name an open request of this pharmacy, the
   signer must be the provider's pinned certificate once one is known; the request is then
   closed, so a link or a file serves once.

The answers are then compared with the provider's previous questionnaire and with the providers'
register (`remarks`)."""

from __future__ import annotations

import hashlib
import io
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from officine.dates import day, moment
from officine.errors import UserError
from officine.registers import signing
from officine.registers.book import RegisterBook
from officine.store import Store
from officine.store.models import QuestionnaireRequestRow, QuestionnaireRow
from officine.yamlio import load_yaml

ANSWERS_FILE = "reponses-questionnaire.json"
LINK_DAYS = 14
MAX_DAYS = 60
FIELD_MAX = 300
RANK = {"not_applicable": 0, "pass": 1, "warn": 2, "fail": 3}


@cache
def definition() -> dict[str, Any]:
    text = resources.files("officine.registers").joinpath("questionnaire.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = load_yaml(text)
    return data


def items() -> list[dict[str, Any]]:
    return list(definition()["items"])


@dataclass(frozen=True)
class Request:
    id: int
    provider: int
    provider_name: str
    nonce: str
    token: str  # shown once: the database keeps its SHA-256 only
    expires_at: datetime


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aware(moment_: datetime) -> datetime:
    return moment_ if moment_.tzinfo else moment_.replace(tzinfo=UTC)


def request(store: Store, provider: int, by: str, days: int = LINK_DAYS, now: datetime | None = None) -> Request:
    """A new request for provider n° `provider` of the register."""
    entry = RegisterBook(store).entry("prestataires", provider)
    if entry is None or entry.withdrawn:
        raise UserError(
            f"Pas de prestataire n° {provider} au registre : ajoutez-le d'abord (registre « prestataires »)."
        )
    if not 1 <= days <= MAX_DAYS:
        raise UserError(f"La demande vaut de 1 à {MAX_DAYS} jours.")
    now = now or datetime.now(UTC)
    token, nonce = secrets.token_urlsafe(32), secrets.token_hex(16)
    with Session(store.engine) as session, session.begin():
        row = QuestionnaireRequestRow(
            provider=provider,
            nonce=nonce,
            token_sha256=_sha(token),
            created_at=now,
            created_by=by[:64],
            expires_at=now + timedelta(days=days),
        )
        session.add(row)
        session.flush()
        request_id = row.id
    return Request(request_id, provider, str(entry.data["nom"]), nonce, token, now + timedelta(days=days))


def _open_request(session: Session, row: QuestionnaireRequestRow | None, now: datetime) -> QuestionnaireRequestRow:
    if row is None:
        raise UserError("Ce lien ou ce formulaire ne correspond à aucune demande de cette pharmacie.")
    if row.answered_at is not None:
        raise UserError(
            f"Ce questionnaire a déjà été rendu le {day(row.answered_at)} : un lien ou un formulaire ne sert "
            "qu'une fois. Demandez-en un nouveau à la pharmacie."
        )
    if row.cancelled_at is not None:
        raise UserError("Cette demande a été annulée par la pharmacie.")
    if _aware(row.expires_at) < now:
        raise UserError(f"Ce lien a expiré le {moment(_aware(row.expires_at))}. Demandez-en un nouveau à la pharmacie.")
    return row


def by_token(store: Store, token: str, now: datetime | None = None) -> tuple[int, int, str]:
    """The open request of a one-time link: (request id, provider number, nonce), or a refusal."""
    now = now or datetime.now(UTC)
    with Session(store.engine) as session:
        row = session.scalar(select(QuestionnaireRequestRow).where(QuestionnaireRequestRow.token_sha256 == _sha(token)))
        found = _open_request(session, row, now)
        return found.id, found.provider, found.nonce


def form_document(store: Store, request_: Request, pharmacy: str) -> dict[str, Any]:
    """The form file for a provider who answers offline (`officine questionnaire remplir`)."""
    return {
        "questionnaire": "officine-cyber",
        "version": definition()["version"],
        "pharmacie": pharmacy,
        "prestataire": request_.provider_name,
        "nonce": request_.nonce,
        "expire_le": request_.expires_at.isoformat(),
        "questions": items(),
        "engagement": definition()["engagement"],
    }


def check_answers(raw: dict[str, Any]) -> dict[str, dict[str, str]]:
    """{"Q01": {"reponse": "oui", ...fields}} with every item answered with one of its choices,
    fields as short single-line texts; a French refusal naming the question otherwise."""
    result: dict[str, dict[str, str]] = {}
    unknown = set(raw) - {i["id"] for i in items()}
    if unknown:
        raise UserError(f"Question inconnue : {sorted(unknown)[0][:20]}. Rien n'a été signé.")
    for item in items():
        given = raw.get(item["id"])
        if not isinstance(given, dict):
            given = {"reponse": given} if isinstance(given, str) else {}
        value = str(given.get("reponse", "")).strip()
        allowed = [c["value"] for c in item["choices"]]
        if value not in allowed:
            raise UserError(
                f"{item['id']} « {item['theme']} » : choisissez une réponse ({', '.join(allowed)}). Rien n'a été signé."
            )
        answer = {"reponse": value}
        for field in item.get("fields", []):
            text = " ".join(str(given.get(field, "") or "").split())
            if len(text) > FIELD_MAX or not text.isprintable():
                raise UserError(
                    f"{item['id']} : le champ {field} doit tenir sur une ligne ({FIELD_MAX} caractères au plus)."
                )
            if field == "hds_expiration" and text:
                try:
                    date.fromisoformat(text)
                except ValueError as exc:
                    raise UserError(f"{item['id']} : date d'expiration HDS illisible (AAAA-MM-JJ).") from exc
            answer[field] = text
        result[item["id"]] = answer
    return result


def _choice(item: dict[str, Any], value: str) -> dict[str, Any]:
    return next(c for c in item["choices"] if c["value"] == value)


def render_pdf(form: dict[str, Any], answers: dict[str, dict[str, str]], signer: str, signed_on: datetime) -> bytes:
    """The answered questionnaire as a PDF people read (reportlab), before it is signed."""
    from reportlab.lib.pagesizes import A4  # noqa: PLC0415
    from reportlab.lib.styles import getSampleStyleSheet  # noqa: PLC0415
    from reportlab.lib.units import cm  # noqa: PLC0415
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer  # noqa: PLC0415

    def esc(text: object) -> str:
        return " ".join(str(text).split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    styles = getSampleStyleSheet()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title="Questionnaire de sécurité du prestataire", author=signer[:100])
    story: list[Any] = [
        Paragraph("Questionnaire de sécurité du prestataire", styles["Title"]),
        Paragraph(esc(f"Pharmacie : {form['pharmacie']} — prestataire : {form['prestataire']}"), styles["BodyText"]),
        Paragraph(esc(f"Demande {form['nonce']}"), styles["BodyText"]),
        Spacer(1, 0.4 * cm),
    ]
    for item in items():
        answer = answers[item["id"]]
        story.append(Paragraph(esc(f"{item['id']} — {item['theme']}"), styles["Heading4"]))
        story.append(Paragraph(esc(item["text"]), styles["BodyText"]))
        extra = " ; ".join(f"{k} : {v}" for k, v in answer.items() if k != "reponse" and v)
        line = _choice(item, answer["reponse"])["label"] + (f" ({extra})" if extra else "")
        story.append(Paragraph(f"<b>Réponse :</b> {esc(line)}", styles["BodyText"]))
    story += [
        Spacer(1, 0.5 * cm),
        Paragraph(esc(form["engagement"]), styles["BodyText"]),
        Paragraph(esc(f"Signé électroniquement par {signer}, le {moment(signed_on)}."), styles["BodyText"]),
    ]
    doc.build(story)
    return buf.getvalue()


def sign(
    form: dict[str, Any], raw_answers: dict[str, Any], identity: signing.Identity, now: datetime | None = None
) -> bytes:
    """The signed PDF of these answers (on the provider's machine, or on the dashboard)."""
    answers = check_answers(raw_answers)
    now = now or datetime.now(UTC)
    signer = identity.subject
    pdf = render_pdf(form, answers, signer, now)
    attachment = {"nonce": form["nonce"], "version": form["version"], "reponses": answers, "signe_le": now.isoformat()}
    data = json.dumps(attachment, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return signing.sign_pdf(
        pdf, identity, {ANSWERS_FILE: data}, reason="Questionnaire de sécurité : réponses certifiées exactes"
    )


@dataclass(frozen=True)
class Imported:
    id: int
    provider: int
    provider_name: str
    signer: str
    self_signed: bool
    pinned_now: bool
    remarks: list[str]


def import_signed(store: Store, pdf: bytes, by: str, channel: str = "fichier", now: datetime | None = None) -> Imported:
    """A signed questionnaire accepted after every check, or a French refusal that changes nothing."""
    now = now or datetime.now(UTC)
    unverified = signing.verify_pdf(pdf)  # integrity first: nothing is read from a changed file
    raw = unverified.attachments.get(ANSWERS_FILE)
    if raw is None:
        raise UserError("Le PDF est refusé : il ne contient pas les réponses d'un questionnaire d'officine-cyber.")
    try:
        attached = json.loads(raw.decode("utf-8"))
        nonce = str(attached["nonce"])
        answers = check_answers(attached["reponses"])
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError("Le PDF est refusé : ses réponses sont illisibles.") from exc
    book = RegisterBook(store)
    with Session(store.engine) as session, session.begin():
        row = session.scalar(select(QuestionnaireRequestRow).where(QuestionnaireRequestRow.nonce == nonce))
        found = _open_request(session, row, now)
        pin = book.entry("cles", found.provider)
        expected = str(pin.data.get("empreinte") or "") if pin else ""
        verified = signing.verify_pdf(pdf, expected or None) if expected else unverified
        provider = book.entry("prestataires", found.provider)
        previous = session.scalar(
            select(QuestionnaireRow)
            .where(QuestionnaireRow.provider == found.provider)
            .order_by(QuestionnaireRow.signed_at.desc())
            .limit(1)
        )
        remarks = remarks_for(
            answers, previous.answers.get("reponses") if previous else None, provider.data if provider else {}, now
        )
        stored = QuestionnaireRow(
            request_id=found.id,
            provider=found.provider,
            pdf=pdf,
            sha256=verified.document_sha256,
            signer=verified.signer,
            cert_sha256=verified.cert_sha256,
            self_signed=int(verified.self_signed),
            signed_at=_aware(verified.signed_at),
            answers={"reponses": answers, "remarques": remarks},
            channel=channel,
            imported_at=now,
            imported_by=by[:64],
        )
        session.add(stored)
        found.answered_at = now
        session.flush()
        stored_id, provider_number = stored.id, found.provider
    pinned_now = not expected
    if pinned_now:
        origin = f"premier questionnaire signé, importé le {day(now)} par {by}"
        pem = {"certificat": verified.cert_pem, "empreinte": verified.cert_sha256, "origine": origin}
        book.set("cles", provider_number, pem, by, "created")
    name = str(provider.data["nom"]) if provider else f"n° {provider_number}"
    return Imported(stored_id, provider_number, name, verified.signer, verified.self_signed, pinned_now, remarks)


def remarks_for(
    answers: dict[str, dict[str, str]],
    previous: dict[str, dict[str, str]] | None,
    provider: dict[str, Any],
    now: datetime,
) -> list[str]:
    """What the pharmacy should look at: answers worse than last time, and answers that disagree
    with the providers' register (health data hosted without a valid HDS certificate)."""
    found = []
    by_id = {i["id"]: i for i in items()}
    for key, answer in answers.items():
        item = by_id[key]
        verdict = _choice(item, answer["reponse"])["verdict"]
        if previous and key in previous and previous[key].get("reponse") in [c["value"] for c in item["choices"]]:
            before = _choice(item, previous[key]["reponse"])["verdict"]
            if RANK.get(verdict, 0) > RANK.get(before, 0):
                was = _choice(item, previous[key]["reponse"])["label"]
                now_label = _choice(item, answer["reponse"])["label"]
                found.append(
                    f"{key} « {item['theme']} » : moins bien que l'an dernier (« {was} » devenu « {now_label} »)."
                )
    hosting = answers.get("Q02", {})
    health = bool(provider.get("donnees_de_sante")) or hosting.get("reponse") in ("ue_hds", "ue_sans_hds", "hors_ue")
    if health:
        reference = hosting.get("certificat_hds") or provider.get("certificat_hds") or ""
        expiry = hosting.get("hds_expiration") or provider.get("hds_expiration") or ""
        if hosting.get("reponse") in ("ue_sans_hds", "hors_ue") or not reference:
            found.append("Q02 : des données de la pharmacie sont hébergées sans certificat HDS indiqué.")
        elif expiry and date.fromisoformat(str(expiry)[:10]) < now.date():
            found.append(
                f"Q02 : le certificat HDS {reference} a expiré le {day(date.fromisoformat(str(expiry)[:10]))}."
            )
        if (
            provider
            and provider.get("certificat_hds")
            and hosting.get("certificat_hds")
            and (provider["certificat_hds"] != hosting["certificat_hds"])
        ):
            found.append(
                f"Q02 : le certificat HDS déclaré ({hosting['certificat_hds']}) n'est pas celui du registre des "
                f"prestataires ({provider['certificat_hds']}) : mettez le registre à jour."
            )
    return found


def reset_pin(store: Store, provider: int, by: str) -> None:
    """The titulaire accepts that the provider's next questionnaire is signed with a new key."""
    book = RegisterBook(store)
    if book.entry("cles", provider) is None:
        raise UserError("Aucun certificat n'est encore attendu pour ce prestataire.")
    book.set("cles", provider, {"certificat": None, "empreinte": "", "origine": f"effacé par {by}"}, by, "updated")


def latest(store: Store) -> list[dict[str, Any]]:
    """The questionnaires received, newest first, for the pages and the command line."""
    with Session(store.engine) as session:
        rows = session.scalars(select(QuestionnaireRow).order_by(QuestionnaireRow.imported_at.desc())).all()
        return [
            {
                "id": r.id,
                "provider": r.provider,
                "signer": r.signer,
                "self_signed": bool(r.self_signed),
                "signed_at": _aware(r.signed_at),
                "channel": r.channel,
                "remarks": list(r.answers.get("remarques", [])),
                "fingerprint": signing.short_fingerprint(r.cert_sha256),
            }
            for r in rows
        ]


def read_form_file(raw: bytes) -> dict[str, Any]:
    """A form file made by `officine questionnaire demander`, checked enough to sign from it."""
    try:
        form = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise UserError(
            "Ce fichier n'est pas un formulaire de questionnaire d'officine-cyber (JSON illisible)."
        ) from exc
    needed = ("questionnaire", "version", "pharmacie", "prestataire", "nonce", "engagement")
    if (
        not isinstance(form, dict)
        or form.get("questionnaire") != "officine-cyber"
        or any(k not in form for k in needed)
    ):
        raise UserError("Ce fichier n'est pas un formulaire de questionnaire d'officine-cyber.")
    if form["version"] != definition()["version"]:
        raise UserError(
            "Ce formulaire vient d'une autre version d'officine-cyber : demandez-en un nouveau à la pharmacie."
        )
    form = {k: (" ".join(str(form[k]).split())[:300] if k != "version" else form[k]) for k in needed}
    return form


def answers_of(data: Any) -> dict[str, Any]:
    """Answers written by the provider (a YAML file): {"Q01": "oui", "Q02": {"reponse": …}, …}."""
    if not isinstance(data, dict):
        raise UserError("Le fichier de réponses doit associer chaque question (Q01…) à sa réponse.")
    return {str(k): ("" if v is None else v) for k, v in data.items()}


def answers_template() -> str:
    """A YAML skeleton of the answers, with the choices of each question in comments."""
    lines = ["# Réponses au questionnaire de sécurité : une réponse par question (la valeur entre crochets)."]
    for item in items():
        lines.append(f"# {item['id']} — {item['theme']} : {' '.join(str(item['text']).split())}")
        lines.append("#   " + " | ".join(f"[{c['value']}] {c['label']}" for c in item["choices"]))
        if item.get("fields"):
            lines.append(f"{item['id']}:")
            lines.append("  reponse: ")
            lines += [f"  {field}: " for field in item["fields"]]
        else:
            lines.append(f"{item['id']}: ")
    return "\n".join(lines) + "\n"


def stored_pdf(store: Store, questionnaire_id: int) -> bytes | None:
    """The signed PDF exactly as it was received."""
    with Session(store.engine) as session:
        row = session.get(QuestionnaireRow, questionnaire_id)
        return None if row is None else bytes(row.pdf)
