"""Links and forms: what a link shows against where it goes, IP addresses, shorteners,
lookalikes, punycode, downloads of risky files, code instead of an address, forms to fill in.
The HTML is parsed (never rendered) by BeautifulSoup with Python's own parser; plain-text
parts are searched for addresses too."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

from officine.mail.domains import ip_literal, lookalike, manner_text, owner, registrable, to_unicode
from officine.mail.findings import Finding
from officine.mail.knowledge import Knowledge, KnownOrg
from officine.mail.parse import Mail

MAX_LINKS = 500
_URL_IN_TEXT = re.compile(r"""(?i)\b(?:https?://|www\.)[^\s<>"'()\[\]{}]{2,2000}""")
_DOMAIN_TEXT = re.compile(
    r"(?i)^(?:https?://)?(?:www\.)?((?:[\w-]+\.)+[a-z\u00a0-\uffff]{2,63})(?::\d+)?(?:[/?#]\S*)?$"
)
_SCRIPT_SCHEMES = ("javascript", "vbscript", "data")


@dataclass
class Link:
    href: str
    text: str | None  # None for an address found in plain text


@dataclass
class Html:
    links: list[Link]
    forms: list[tuple[str, bool]]  # (action, asks for a password)
    text: str


_TAG = re.compile(r"<[^>]{0,2000}>")
_HREF = re.compile(r"""(?i)href\s*=\s*["']?([^"'\s>]{1,2000})""")


def read_html(html: str) -> Html:
    """Links with their text as BeautifulSoup reads them, plus every href found directly in the
    source: a parser can give up on malformed or absurdly nested markup, a browser does not."""
    try:
        parsed = _parsed(html)
    except RecursionError:
        forms = [("", "password" in html.lower())] if "<form" in html.lower() else []
        parsed = Html([], forms, _TAG.sub(" ", html))
    seen = {link.href for link in parsed.links}
    for match in _HREF.finditer(html):
        if len(parsed.links) >= MAX_LINKS:
            break
        if match.group(1) not in seen:
            seen.add(match.group(1))
            parsed.links.append(Link(match.group(1), None))
    return parsed


def _parsed(html: str) -> Html:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(html, "html.parser")
    links = []
    for tag in soup.find_all(["a", "area"], limit=MAX_LINKS):
        href = tag.get("href")
        if isinstance(href, str) and href.strip():
            links.append(Link(href.strip(), " ".join(tag.get_text(" ").split())))
    forms = []
    for form in soup.find_all("form", limit=50):
        action = form.get("action")
        password = form.find("input", attrs={"type": re.compile("^password$", re.I)}) is not None
        forms.append((action if isinstance(action, str) else "", password))
    for tag in soup(["script", "style"]):
        tag.decompose()
    return Html(links, forms, soup.get_text(" "))


def _host(url: str) -> str | None:
    try:
        parts = urlsplit(url if "://" in url[:12] else "http://" + url)
        return parts.hostname
    except ValueError:
        return None


def _shown_host(text: str) -> str | None:
    """The domain a link's text displays ("www.ameli.fr", "https://ameli.fr/compte"), if any."""
    match = _DOMAIN_TEXT.match(text.strip())
    if not match:
        return None
    return match.group(1).lower().rstrip(".")


def _risky_download(url: str, kn: Knowledge) -> str | None:
    try:
        path = unquote(urlsplit(url).path)
    except ValueError:
        return None
    name = path.rstrip("/").rpartition("/")[2]
    if "." not in name:
        return None
    ext = name.rpartition(".")[2].lower()
    e = kn.extensions
    risky = e.executable | e.installeur | e.script | e.raccourci | e.hta | e.iso | e.img | e.vhd | e.archive
    return name if ext in risky else None


def check_links(mail: Mail, kn: Knowledge, presented: KnownOrg | None, htmls: list[Html]) -> list[Finding]:
    links: list[Link] = [link for html in htmls for link in html.links]
    for text in mail.texts:
        links += [Link(m.group().rstrip(".,;:!?"), None) for m in _URL_IN_TEXT.finditer(text)]
    links = links[:MAX_LINKS]
    found: dict[str, Finding] = {}
    sender_is_presented = presented is not None and mail.sender is not None and presented.owns(mail.sender.domain)
    elsewhere: list[str] = []

    def add(finding: Finding) -> None:
        found.setdefault(finding.code, finding)

    seen_hosts: set[str] = set()
    for link in links:
        scheme = link.href.split(":", 1)[0].strip().lower() if ":" in link.href else ""
        if scheme in _SCRIPT_SCHEMES:
            add(Finding.of("lien_script", schema=scheme))
            continue
        if scheme in ("mailto", "tel", "cid", "sms") or link.href.startswith("#"):
            continue
        host = _host(link.href)
        if not host:
            continue
        host = host.lower().rstrip(".")
        shown = _shown_host(link.text) if link.text else None
        if host in seen_hosts and shown is None:
            continue  # the same site again: every check below would say the same
        seen_hosts.add(host)
        reg = registrable(host)
        if ip_literal(host):
            add(Finding.of("lien_adresse_ip", hote=host))
        if host in kn.shorteners or reg in kn.shorteners:
            add(Finding.of("lien_raccourci", domaine=host))
        known = owner(host, kn)
        if known is None and ("xn--" in host or not host.isascii()):
            add(Finding.of("lien_punycode", domaine=host, unicode=to_unicode(host)))
        similar = lookalike(host, kn) if known is None else None
        if similar is not None:
            add(
                Finding.of(
                    "lien_sosie",
                    domaine=host,
                    modele=similar.model,
                    organisme=similar.org.name,
                    maniere=manner_text(kn, similar, host),
                )
            )
        risky = _risky_download(link.href, kn)
        if risky:
            add(Finding.of("lien_fichier_risque", fichier=risky))
        if shown and registrable(shown) != reg and not (owner(shown, kn) and owner(shown, kn) is known):
            add(Finding.of("lien_texte_trompeur", affiche=link.text or shown, reel=host))
        if presented is not None and not sender_is_presented and known is None and reg not in elsewhere:
            elsewhere.append(reg)
    if elsewhere and presented is not None:
        add(Finding.of("lien_domaine_etranger", organisme=presented.name, domaines=", ".join(elsewhere[:3])))
    for html in htmls:
        for action, password in html.forms:
            host = _host(action) if action and ":" in action else None
            target = f" qui envoie les réponses à {host}" if host else ""
            add(Finding.of("formulaire_mot_de_passe" if password else "formulaire", cible=target))
    return list(found.values())
