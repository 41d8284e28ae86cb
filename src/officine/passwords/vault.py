"""Reading a password manager's entries: a KeePass/KeePassXC database (through pykeepass), or
the CSV export of Bitwarden, Firefox or Chrome.

Only what the audit needs is kept: the entry's title, its password, whether it is a login (a
user name or an address; an entry with neither is a note) and its expiry. User names, addresses
and notes are read to decide that, never kept. Every failure is a French `UserError` (exit code
2) that names the file, never a password; exceptions from the libraries are not chained, so no
message of theirs reaches a traceback."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from officine.errors import UserError

MAX_KDBX_BYTES = 100 * 1024 * 1024
MAX_CSV_BYTES = 20 * 1024 * 1024  # a 50,000-entry export is about 10 MB
MAX_ENTRIES = 50_000
MAX_FIELD = 64 * 1024


@dataclass(frozen=True)
class Entry:
    title: str
    password: str = field(repr=False)
    login: bool  # has a user name or an address (an entry with neither is a note)
    expires_at: datetime | None = None

    def __repr__(self) -> str:  # never the password, even in a debugger or a log line
        return f"Entry(title={self.title!r})"


@dataclass(frozen=True)
class Vault:
    kind: str  # "keepass", "bitwarden", "firefox", "chrome"
    name: str  # the file's name, without its folder
    entries: tuple[Entry, ...]

    @property
    def is_export(self) -> bool:
        return self.kind != "keepass"


# -- KeePass -------------------------------------------------------------------------------------
def open_keepass(path: Path, password: str, keyfile: Path | None = None) -> Any:
    """The opened database (pykeepass), after the key derivation. Separate from `read_keepass`
    so that the benchmark can time the key derivation alone."""
    from pykeepass import PyKeePass  # noqa: PLC0415 - only the audit needs it
    from pykeepass.exceptions import CredentialsError  # noqa: PLC0415

    _check_file(path, MAX_KDBX_BYTES, "base KeePass")
    if keyfile is not None and not keyfile.is_file():
        raise UserError(f"Fichier clé introuvable : {keyfile}. Indiquez le fichier clé de la base. Rien n'a été lu.")
    try:
        return PyKeePass(str(path), password=password, keyfile=str(keyfile) if keyfile else None)
    except CredentialsError:
        pass
    except Exception:  # any parsing failure of an untrusted file is "unreadable"
        raise UserError(
            f"{path.name} n'est pas une base KeePass lisible (fichier endommagé, tronqué ou d'un autre "
            "format). Vérifiez que c'est bien le fichier .kdbx et qu'il s'ouvre dans KeePassXC."
        ) from None
    raise UserError(
        "Mot de passe principal ou fichier clé incorrect : la base n'a pas pu être ouverte. "
        "Vérifiez la saisie (majuscules, clavier) et le fichier clé. Rien n'a été lu."
    ) from None


def read_keepass(path: Path, password: str, keyfile: Path | None = None) -> Vault:
    return entries_of_keepass(open_keepass(path, password, keyfile), path.name)


def entries_of_keepass(kp: Any, name: str) -> Vault:
    """The entries of an opened database (history and recycle bin left out)."""
    bin_group = kp.recyclebin_group
    entries = []
    for item in kp.entries:
        if bin_group is not None and _in_group(item, bin_group):
            continue
        strings = {s.findtext("Key"): s.findtext("Value") or "" for s in item._element.findall("String")}
        expires = None
        if item.expires:
            expires = item.expiry_time
        entries.append(
            Entry(
                title=strings.get("Title", "").strip(),
                password=strings.get("Password", ""),
                login=bool(strings.get("UserName", "").strip() or strings.get("URL", "").strip()),
                expires_at=expires if expires is None or expires.tzinfo else expires.replace(tzinfo=UTC),
            )
        )
        if len(entries) > MAX_ENTRIES:
            raise UserError(f"{name} contient plus de {MAX_ENTRIES} entrées : audit refusé.")
    return Vault("keepass", name, tuple(entries))


def _in_group(item: Any, group: Any) -> bool:
    parent = item.group
    while parent is not None:
        if parent.uuid == group.uuid:
            return True
        parent = parent.parentgroup
    return False


# -- CSV exports ---------------------------------------------------------------------------------
CSV_FORMATS = {
    # kind: (title column or None, address column, user column, password column)
    "bitwarden": ("name", "login_uri", "login_username", "login_password"),
    "firefox": (None, "url", "username", "password"),
    "chrome": ("name", "url", "username", "password"),
}


def read_csv(path: Path) -> Vault:
    raw = _check_file(path, MAX_CSV_BYTES, "export CSV")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(f"{path.name} n'est pas un texte UTF-8 : exportez à nouveau au format CSV.") from None
    rows = _rows(text, path.name)
    header = next(rows, None)
    if header is None:
        raise UserError(f"{path.name} est vide : exportez à nouveau vos mots de passe au format CSV.")
    kind = _csv_kind(header)
    if kind is None:
        raise UserError(
            f"{path.name} n'est pas un export reconnu. Formats acceptés : Bitwarden (CSV), Firefox "
            "(Identifiants et mots de passe > Exporter), Chrome (Gestionnaire de mots de passe > Exporter)."
        )
    title_col, url_col, user_col, password_col = CSV_FORMATS[kind]
    index = {name: i for i, name in enumerate(header)}
    entries = []
    for number, row in enumerate(rows, 2):
        if not any(row):
            continue
        if len(row) != len(header):
            raise UserError(f"{path.name}, ligne {number} : {len(row)} colonnes au lieu de {len(header)}.")
        if kind == "bitwarden" and row[index["type"]] not in ("login", ""):
            continue  # notes, cards, identities: no password to judge
        url = row[index[url_col]].strip()
        title = row[index[title_col]].strip() if title_col else ""
        entries.append(
            Entry(
                title=title or _host(url),
                password=row[index[password_col]],
                login=bool(url or row[index[user_col]].strip()),
            )
        )
        if len(entries) > MAX_ENTRIES:
            raise UserError(f"{path.name} contient plus de {MAX_ENTRIES} entrées : audit refusé.")
    return Vault(kind, path.name, tuple(entries))


def _rows(text: str, name: str) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise UserError(
                f"{name}, ligne {reader.line_num} : CSV mal formé (guillemet non fermé ou champ trop long)."
            ) from None
        if any(len(value) > MAX_FIELD for value in row):
            raise UserError(f"{name}, ligne {reader.line_num} : un champ dépasse {MAX_FIELD // 1024} ko.")
        yield row


def _csv_kind(header: list[str]) -> str | None:
    names = {h.strip() for h in header}
    if {"login_password", "login_uri", "type", "name"} <= names:
        return "bitwarden"
    if {"url", "username", "password", "guid"} <= names:
        return "firefox"
    if {"name", "url", "username", "password"} <= names:
        return "chrome"
    return None


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or url[:80]
    except ValueError:
        return url[:80]


# -- common --------------------------------------------------------------------------------------
def _check_file(path: Path, limit: int, what: str) -> bytes:
    if not path.is_file():
        raise UserError(f"Fichier introuvable : {path}. Indiquez le chemin de la {what}.")
    size = path.stat().st_size
    if size > limit:
        raise UserError(
            f"{path.name} fait {size / 1024 / 1024:.0f} Mo : au-delà de {limit // 1024 // 1024} Mo, ce n'est "
            f"pas une {what} de gestionnaire de mots de passe. Rien n'a été lu."
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path.name} ne peut pas être lu : {exc.strerror}.") from None


KDBX_SIGNATURE = b"\x03\xd9\xa2\x9a"


def is_keepass(path: Path) -> bool:
    """A KeePass database by its first bytes (or its name, for a damaged one)."""
    head = b""
    if path.is_file():
        with path.open("rb") as fh:
            head = fh.read(len(KDBX_SIGNATURE))
    return head == KDBX_SIGNATURE or path.suffix.lower() == ".kdbx"


def read_vault(path: Path, password: str | None = None, keyfile: Path | None = None) -> Vault:
    """A KeePass database (`password` required) or a CSV export, by the file's content."""
    if is_keepass(path):
        if password is None:
            raise UserError("Le mot de passe principal de la base est nécessaire.")
        return read_keepass(path, password, keyfile)
    return read_csv(path)
