"""Domain names: the registrable part (Public Suffix List, bundled, never downloaded), IDNA
decoding, and lookalikes of the known organisations (one or two letters changed, characters
that look alike in another alphabet or in ASCII, the brand with other words around it, the
brand put in front of someone else's domain, the same name under another extension)."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import idna
from confusable_homoglyphs import confusables
from publicsuffixlist import PublicSuffixList
from rapidfuzz.distance import DamerauLevenshtein

from officine.mail.knowledge import Knowledge, KnownOrg

# ASCII look-alikes read the same by a hurried eye: compared after this mapping on both sides.
_ASCII_SKELETON = (("rn", "m"), ("vv", "w"), ("cl", "d"), ("0", "o"), ("1", "l"), ("i", "l"), ("5", "s"), ("3", "e"))
_LABEL_PIECES = re.compile(r"[-0-9_]+")


@cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList()  # the list shipped in the package: no network


def normalise_host(host: str) -> str:
    """Lower case, no trailing dot, brackets off an IPv6 literal."""
    return host.strip().strip("[]").rstrip(".").lower()


def ip_literal(host: str) -> str | None:
    """`host` as an IP address, including the forms browsers accept (decimal 3232235777,
    hexadecimal 0xC0A80101)."""
    host = normalise_host(host)
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        if re.fullmatch(r"0x[0-9a-f]{1,8}|[0-9]{8,10}", host):
            return str(ipaddress.ip_address(int(host, 0)))
    except ValueError:
        return None
    return None


def to_unicode(host: str) -> str:
    """The host as people read it (xn--... decoded); the ASCII form when it does not decode."""
    if "xn--" not in host:
        return host
    try:
        return idna.decode(host)
    except (idna.IDNAError, UnicodeError, ValueError):
        labels = []
        for label in host.split("."):
            try:
                labels.append(label[4:].encode("ascii").decode("punycode") if label.startswith("xn--") else label)
            except (UnicodeError, ValueError):
                labels.append(label)
        return ".".join(labels)


def to_ascii(host: str) -> str:
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return host


def registrable(host: str) -> str:
    """The domain someone registered: secure-login.com for ameli.fr.secure-login.com."""
    host = normalise_host(host)
    if not host or ip_literal(host):
        return host
    try:
        found = _psl().privatesuffix(to_ascii(host))
    except Exception:  # a name the list cannot split
        found = None
    return to_unicode(found) if found else host


@cache
def _latin(ch: str) -> str:
    """A character as the Latin letter it imitates (Cyrillic а -> a), or itself."""
    if ch.isascii():
        return ch
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if base.isascii() and base:
        return base.lower()
    try:
        found = confusables.is_confusable(ch, preferred_aliases=["latin"], greedy=True)
    except Exception:
        found = False
    if found:
        for entry in found:
            for glyph in entry.get("homoglyphs", []):
                candidate = str(glyph.get("c", ""))
                if candidate.isascii() and candidate:
                    return candidate.lower()
    return ch


def skeleton(text: str) -> str:
    latin = "".join(_latin(ch) for ch in text.lower())
    for seen, meant in _ASCII_SKELETON:
        latin = latin.replace(seen, meant)
    return latin


@dataclass(frozen=True)
class Lookalike:
    org: KnownOrg
    model: str  # the real domain imitated
    manner: str  # key of `manieres` in reasons.yaml
    brand: str = ""


def _split(domain: str) -> tuple[str, str]:
    """("ameli", "fr") for ameli.fr; the suffix is what the Public Suffix List says."""
    label, _, suffix = domain.partition(".")
    return label, suffix


def owner(host: str, kn: Knowledge) -> KnownOrg | None:
    host = normalise_host(host)
    ascii_host = to_ascii(host) if not host.isascii() else host
    return next((org for org in kn.orgs if org.owns(host) or org.owns(ascii_host)), None)


def _distance_allowed(label: str) -> int:
    if len(label) >= 9:
        return 2
    if len(label) >= 5:
        return 1
    return 0


def _token_in(token: str, pieces: list[str], joined: str) -> bool:
    if token in pieces:
        return True
    if len(token) >= 6 and any(p.startswith(token) or p.endswith(token) for p in pieces):
        return True
    return len(token) >= 9 and token in joined


def lookalike(host: str, kn: Knowledge) -> Lookalike | None:
    """The known organisation `host` imitates, if any. A domain of the organisation itself, a
    free mailbox or an unrelated name is None."""
    host = normalise_host(to_unicode(normalise_host(host)))
    if not host or ip_literal(host) or owner(host, kn) is not None:
        return None
    reg = registrable(host)
    if reg in kn.webmails or to_ascii(reg) in kn.webmails:
        return None
    label, suffix = _split(reg)
    has_unicode = not host.isascii()
    label_skeleton = skeleton(label)
    pieces = [p for p in _LABEL_PIECES.split(label) if p]
    joined = "".join(pieces)
    sub = host[: -len(reg)].rstrip(".") if host.endswith(reg) and host != reg else ""
    sub_pieces = [p for p in re.split(r"[-.0-9_]+", sub) if p]
    for org in kn.orgs:
        for model in org.plain_domains:
            model_reg = registrable(model)
            m_label, m_suffix = _split(model_reg)
            if model in sub or (sub and model_reg in sub):
                return Lookalike(org, model, "sous_domaine")
            if has_unicode and skeleton(to_unicode(label)) == skeleton(m_label) and suffix == m_suffix:
                return Lookalike(org, model, "punycode")
            if label == m_label and suffix != m_suffix and len(label) >= 4:
                return Lookalike(org, model, "autre_extension")
            if label != m_label and label_skeleton == skeleton(m_label) and len(m_label) >= 3:
                return Lookalike(org, model, "homoglyphe")
            allowed = _distance_allowed(m_label)
            if (
                allowed
                and label != m_label
                and DamerauLevenshtein.distance(label, m_label, score_cutoff=allowed) <= allowed
            ):
                return Lookalike(org, model, "distance")
        for token in org.tokens:
            if _token_in(token, pieces, joined):
                return Lookalike(
                    org, org.plain_domains[0] if org.plain_domains else org.domains[0], "mots_ajoutes", token
                )
            if token in sub_pieces:
                return Lookalike(
                    org, org.plain_domains[0] if org.plain_domains else org.domains[0], "sous_domaine", token
                )
    return None


def manner_text(kn: Knowledge, found: Lookalike, domain: str) -> str:
    template = kn.reasons.manieres[found.manner]
    return template.format(
        domaine=domain, modele=found.model, marque=found.brand or found.model, ascii=to_ascii(domain)
    )
