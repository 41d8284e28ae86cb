"""From the bytes of a message (.eml, or Outlook .msg) to what the checks read: headers in
order, sender addresses, texts, HTML and attachments. Nothing is rendered, opened or fetched.

A message is hostile input: every header may be malformed, every part may lie about its type,
charset or encoding. Each read that can fail falls back to the raw value, and every bound
(parts, text per part, nesting) is counted so that the verdict says the analysis was partial.
"""

from __future__ import annotations

import contextlib
import email
import email.header
import email.utils
import logging
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message

from officine.errors import UserError

MAX_PARTS = 300  # a real message has a few dozen at most
MAX_DEPTH = 20  # multipart inside multipart (forwarded messages included)
MAX_TEXT_CHARS = 1_000_000  # per text or HTML part: what wording and links are searched in
MAX_ATTACHMENT_BYTES = 40 * 1024 * 1024  # a decoded attachment larger than this is not inspected
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class Attachment:
    name: str
    declared_type: str
    data: bytes | None
    problem: str | None = None  # why `data` is None, in French


@dataclass
class Address:
    display: str
    address: str

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2].strip().strip(".").lower() if "@" in self.address else ""


@dataclass
class Mail:
    headers: list[tuple[str, str]]  # top first, as received (the sender's own lines at the bottom)
    sender: Address | None
    sender_raw: str
    reply_to: list[Address]
    return_path: str
    subject: str
    recipients: list[Address] = field(default_factory=list)  # To and Cc
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)  # French causes of a partial analysis

    def header_values(self, name: str) -> list[str]:
        lowered = name.lower()
        return [v for k, v in self.headers if k.lower() == lowered]


def _decoded(value: str) -> str:
    """A header value with RFC 2047 encoded words decoded; the raw value if they are broken."""
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except Exception:  # any malformed encoded word: keep what was sent
        return value


def _addresses(raw: str) -> list[Address]:
    try:
        pairs = email.utils.getaddresses([raw])
    except Exception:
        return []
    found = []
    for display, address in pairs:
        if not display and not address:
            continue
        found.append(Address(_decoded(display).strip(), address.strip()))
    return found


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except (LookupError, TypeError):  # an unknown or malformed charset name
        return payload.decode("latin-1")


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        return None
    return _decoded(name) if name else None


def _collect(root: Message, mail: Mail) -> None:
    """Walk the parts without recursion (a deeply nested message must not overflow the stack)."""
    stack: list[tuple[Message, int]] = [(root, 0)]
    seen = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            mail.partial.append(f"le message a plus de {MAX_PARTS} parties ; les suivantes n'ont pas été lues")
            return
        if part.is_multipart():
            if depth >= MAX_DEPTH:
                mail.partial.append(
                    f"parties imbriquées sur plus de {MAX_DEPTH} niveaux ; les plus profondes n'ont pas été lues"
                )
                continue
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend((child, depth + 1) for child in reversed(children) if isinstance(child, Message))
            continue
        ctype = part.get_content_type()
        name = _filename(part)
        disposition = part.get_content_disposition()
        if name is None and disposition != "attachment" and ctype in ("text/plain", "text/html"):
            text = _part_text(part)
            if len(text) > MAX_TEXT_CHARS:
                mail.partial.append(
                    f"un texte de plus de {MAX_TEXT_CHARS:,} caractères n'a été lu qu'en partie".replace(",", " ")
                )
                text = text[:MAX_TEXT_CHARS]
            (mail.htmls if ctype == "text/html" else mail.texts).append(text)
            continue
        payload = part.get_payload(decode=True)
        label = name or f"(sans nom, {ctype})"
        if not isinstance(payload, bytes):
            mail.attachments.append(Attachment(label, ctype, None, "contenu absent ou illisible"))
        elif len(payload) > MAX_ATTACHMENT_BYTES:
            mail.attachments.append(Attachment(label, ctype, None, "trop volumineuse pour être inspectée"))
            mail.partial.append(
                f"la pièce jointe {label} dépasse {MAX_ATTACHMENT_BYTES // (1024 * 1024)} Mo et n'a pas été inspectée"
            )
        else:
            mail.attachments.append(Attachment(label, ctype, payload))


def from_message(msg: Message) -> Mail:
    headers = [(str(k), _one_line(_decoded(str(v)))) for k, v in msg.raw_items()] if hasattr(msg, "raw_items") else []
    if not headers:
        headers = [(str(k), _one_line(_decoded(str(v)))) for k, v in msg.items()]
    raw = {k.lower(): v for k, v in reversed(headers)}  # the first occurrence wins
    from_raw = (
        next((str(v) for k, v in msg.raw_items() if k.lower() == "from"), "") if hasattr(msg, "raw_items") else ""
    )
    senders = _addresses(from_raw or raw.get("from", ""))
    reply_raw = next((str(v) for k, v in msg.raw_items() if k.lower() == "reply-to"), "")
    recipients_raw = ", ".join(str(v) for k, v in msg.raw_items() if k.lower() in ("to", "cc"))[:100_000]
    mail = Mail(
        headers=headers,
        sender=senders[0] if senders else None,
        sender_raw=raw.get("from", ""),
        reply_to=_addresses(reply_raw),
        return_path=raw.get("return-path", "").strip().strip("<>").strip(),
        subject=raw.get("subject", ""),
        recipients=_addresses(recipients_raw)[:200],
    )
    _collect(msg, mail)
    defects: set[str] = set()
    for part in _bounded_walk(msg):
        defects.update(type(d).__name__ for d in getattr(part, "defects", []))
    mail.defects = sorted(defects)
    return mail


def _bounded_walk(root: Message) -> list[Message]:
    out: list[Message] = []
    stack = [root]
    while stack and len(out) < MAX_PARTS:
        part = stack.pop()
        out.append(part)
        if part.is_multipart():
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend(c for c in children if isinstance(c, Message))
    return out


def parse_eml(data: bytes) -> Mail:
    try:
        msg = email.message_from_bytes(data, policy=policy.default)
        return from_message(msg)
    except RecursionError as exc:  # Python's parser recurses once per nested part
        raise UserError(
            "Ce message est construit de façon anormale (des parties imbriquées sur des centaines de niveaux) : "
            "il ne peut pas être analysé. Ne l'ouvrez pas, signalez-le et supprimez-le."
        ) from exc


def parse_msg(data: bytes) -> Mail:
    """An Outlook .msg file (an OLE container) through extract-msg, turned into the same model."""
    import extract_msg  # noqa: PLC0415 - only for .msg files

    logging.getLogger("extract_msg").setLevel(logging.CRITICAL)  # it logs parsing trouble as errors
    try:
        msg = extract_msg.openMsg(data, delayAttachments=False)
    except Exception as exc:
        raise UserError(
            "Ce fichier Outlook (.msg) est illisible ou endommagé : enregistrez le message à nouveau."
        ) from exc
    try:
        header_text = getattr(msg, "headerText", None)
        converted: EmailMessage | None = None
        try:
            converted = msg.asEmailMessage()  # type: ignore[attr-defined]  # Message subclass only
        except Exception:
            converted = None
        if converted is not None:
            mail = from_message(converted)
        else:
            mail = Mail(headers=[], sender=None, sender_raw="", reply_to=[], return_path="", subject="")
        if header_text and not any(k.lower() == "received" for k, _ in mail.headers):
            transport = email.message_from_bytes(header_text.encode("utf-8", "replace"), policy=policy.default)
            mail.headers = [(str(k), _one_line(_decoded(str(v)))) for k, v in transport.raw_items()] + mail.headers
        if mail.sender is None:
            found = _addresses(str(getattr(msg, "sender", "") or ""))
            mail.sender = found[0] if found else None
            mail.sender_raw = str(getattr(msg, "sender", "") or "")
        if not mail.subject:
            mail.subject = str(getattr(msg, "subject", "") or "")
        if not mail.texts and not mail.htmls:
            body = getattr(msg, "body", None)
            if isinstance(body, str):
                mail.texts.append(body[:MAX_TEXT_CHARS])
            html = getattr(msg, "htmlBody", None)
            if isinstance(html, bytes):
                mail.htmls.append(html.decode("utf-8", "replace")[:MAX_TEXT_CHARS])
        if not mail.attachments:
            for att in getattr(msg, "attachments", []) or []:
                name = str(getattr(att, "longFilename", None) or getattr(att, "shortFilename", None) or "(sans nom)")
                payload = getattr(att, "data", None)
                if isinstance(payload, bytes):
                    mail.attachments.append(Attachment(name, "application/octet-stream", payload))
                else:
                    mail.attachments.append(
                        Attachment(name, "application/octet-stream", None, "pièce jointe non extraite")
                    )
        return mail
    finally:
        with contextlib.suppress(Exception):  # closing a damaged file must not hide the analysis
            msg.close()


def parse(data: bytes) -> Mail:
    """A message from its bytes: Outlook's OLE container when it starts like one, MIME otherwise."""
    if data.startswith(OLE_MAGIC):
        return parse_msg(data)
    if not data.strip():
        raise UserError(
            "Le fichier est vide : enregistrez le message (« Enregistrer sous », format .eml) puis recommencez."
        )
    return parse_eml(data)
