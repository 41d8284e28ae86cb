"""French (and some English) wording of traps: urgency, threats, payment and bank-detail
changes, requests for credentials, promised money, health data outside MSSanté. The patterns
are data (indicators.yaml); the text is compared in lower case without accents."""

from __future__ import annotations

from officine.mail.findings import Finding, quote
from officine.mail.knowledge import Knowledge, fold
from officine.mail.parse import Mail

MAX_QUOTES = 3


def message_text(mail: Mail, html_texts: list[str]) -> str:
    return fold("\n".join([mail.subject, *mail.texts, *html_texts]))


def check_wording(mail: Mail, kn: Knowledge, text: str) -> list[Finding]:
    found = []
    sender_domain = mail.sender.domain if mail.sender else ""
    for code, patterns in kn.wording.items():
        if code == "donnees_sante_hors_mssante" and any(
            sender_domain == d or sender_domain.endswith("." + d) for d in kn.mssante_domains
        ):
            continue
        quotes: list[str] = []
        for pattern in patterns:
            match = pattern.search(text)
            if match and match.group() not in quotes:
                quotes.append(match.group())
            if len(quotes) >= MAX_QUOTES:
                break
        if quotes:
            found.append(Finding.of(code, extraits=", ".join(f"« {quote(q, 60)} »" for q in quotes)))
    return found


def password_given(kn: Knowledge, text: str) -> str | None:
    match = kn.password_given.search(text)
    return quote(match.group(), 80) if match else None
