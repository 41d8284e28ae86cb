"""Who the message says it is from, against who sent it: display name, From, Reply-To, Return-Path."""

from __future__ import annotations

import re

from officine.mail.domains import lookalike, manner_text, owner, registrable
from officine.mail.findings import Finding
from officine.mail.knowledge import Knowledge, KnownOrg, fold
from officine.mail.parse import Address, Mail

MAX_NAME = 500  # a display name is a few words; past this, matching would only cost time
_ADDRESS_IN_NAME = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def claimed_org(name: str, kn: Knowledge) -> KnownOrg | None:
    """The known organisation a display name (or subject) names, if any."""
    folded = fold(name)
    if not folded:
        return None
    return next((org for org in kn.orgs if any(p.search(folded) for p in org.name_patterns)), None)


def _to_the_list(mail: Mail, reply: Address) -> bool:
    """Replies that go to the group or mailing list the message was sent to: a list sets
    Reply-To to itself, which diverts nothing."""
    address = reply.address.lower()
    if any(r.address.lower() == address for r in mail.recipients):
        return True
    for value in mail.header_values("List-Post")[:3]:
        match = re.search(r"mailto:([^>\s]+)", value)
        if (
            match
            and "@" in match.group(1)
            and registrable(match.group(1).rpartition("@")[2].lower()) == registrable(reply.domain)
        ):
            return True
    return False


def check_sender(mail: Mail, kn: Knowledge) -> tuple[list[Finding], KnownOrg | None]:
    """The findings, and the organisation the message presents itself as (for the link checks)."""
    found: list[Finding] = []
    sender = mail.sender
    if sender is None or "@" not in sender.address or not sender.domain:
        found.append(Finding.of("expediteur_absent", valeur=mail.sender_raw or "aucun en-tête From"))
        return found, claimed_org(mail.sender_raw[:MAX_NAME], kn)
    domain = sender.domain
    real_owner = owner(domain, kn)
    display = sender.display[:MAX_NAME]
    claimed = claimed_org(display, kn)
    presented = real_owner or claimed
    if real_owner is not None:
        found.append(Finding.of("expediteur_connu", organisme=real_owner.name, domaine=domain))
    shown = _ADDRESS_IN_NAME.search(display) if "@" in display else None
    if shown and shown.group().lower() != sender.address.lower():
        found.append(Finding.of("expediteur_nom_autre_adresse", affichee=shown.group(), adresse=sender.address))
    similar = lookalike(domain, kn)
    if similar is not None:
        presented = presented or similar.org
        found.append(
            Finding.of(
                "expediteur_sosie",
                adresse=sender.address,
                modele=similar.model,
                organisme=similar.org.name,
                maniere=manner_text(kn, similar, domain),
            )
        )
    elif claimed is not None and claimed is not real_owner:
        if registrable(domain) in kn.webmails:
            found.append(Finding.of("expediteur_webmail_organisme", organisme=claimed.name, domaine=domain))
        else:
            found.append(
                Finding.of("expediteur_nom_marque", nom=display, organisme=claimed.name, adresse=sender.address)
            )
    sender_reg = registrable(domain)
    for reply in mail.reply_to[:5]:
        if "@" not in reply.address or registrable(reply.domain) == sender_reg or _to_the_list(mail, reply):
            continue
        if registrable(reply.domain) in kn.webmails and presented is not None:
            found.append(Finding.of("repondre_a_webmail", repondre_a=reply.address, organisme=presented.name))
        else:
            found.append(Finding.of("repondre_a_different", repondre_a=reply.address, adresse=sender.address))
        break
    path = mail.return_path
    if "@" in path:
        path_domain = path.rpartition("@")[2].strip().lower()
        if path_domain and registrable(path_domain) != sender_reg:
            found.append(Finding.of("chemin_retour_different", chemin_retour=path, adresse=sender.address))
    return found, presented
