"""Database failures a person can act on (full disk, damaged file, no access), in French.

SQLAlchemy raises the driver's English error; these are recognised by their codes (SQLite's
result codes, PostgreSQL's SQLSTATE), never by message text, and turned into a `UserError`
that says what to do. Anything else stays an internal error. A failed write is rolled back by
the database itself: what was stored before is untouched.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from officine.errors import UserError

# SQLite primary result codes (https://sqlite.org/rescode.html).
SQLITE_PERM, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY = 3, 5, 6, 8
SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB = 10, 11, 13, 14, 26
# Below this much free space, an I/O error on the data disk is taken for a full disk (SQLite
# reports "disk I/O error" when it cannot even create its write-ahead log).
NEARLY_FULL_BYTES = 1_000_000

UNCHANGED = "Les données déjà enregistrées sont intactes ; ce qui vient d'être fait n'a pas été enregistré."


def _full(where: str) -> UserError:
    return UserError(
        f"Le disque de la base de données ({where}) est plein. Libérez de la place sur ce disque "
        f"(videz la corbeille, déplacez de vieux fichiers) puis relancez. {UNCHANGED}"
    )


def _damaged(where: str, path: Path | None) -> UserError:
    restore = (
        f"Restaurez le fichier {path} depuis votre dernière sauvegarde (« officine backup restore » "
        "dans un dossier à part, puis remettez ce fichier à sa place) ou confiez-le à votre prestataire"
        if path is not None
        else "Faites restaurer la base depuis sa dernière sauvegarde par votre prestataire"
    )
    return UserError(
        f"La base de données ({where}) est abîmée : elle ne peut plus être lue. Ne la supprimez pas. "
        f"{restore}. Rien n'a été modifié."
    )


def _nearly_full(path: Path | None) -> bool:
    if path is None:
        return False
    try:
        return shutil.disk_usage(path.parent).free < NEARLY_FULL_BYTES
    except OSError:
        return False


def _sqlite(code: int, where: str, path: Path | None) -> UserError | None:
    primary = code & 0xFF
    if primary == SQLITE_FULL or (primary == SQLITE_IOERR and _nearly_full(path)):
        return _full(where)
    if primary in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return _damaged(where, path)
    if primary == SQLITE_IOERR:
        return UserError(
            f"Erreur de lecture ou d'écriture du disque de la base de données ({where}). Vérifiez le disque "
            f"(place libre, câble, état) puis relancez. {UNCHANGED}"
        )
    if primary in (SQLITE_READONLY, SQLITE_PERM, SQLITE_CANTOPEN):
        return UserError(
            f"La base de données ({where}) ne peut pas être ouverte en écriture (droits, ou disque en lecture "
            f"seule). Vérifiez les droits du dossier de données. {UNCHANGED}"
        )
    if primary in (SQLITE_BUSY, SQLITE_LOCKED):
        return UserError(
            f"La base de données ({where}) est occupée par une autre opération d'officine-cyber. "
            f"Réessayez dans un instant. {UNCHANGED}"
        )
    return None


def _postgres(sqlstate: str, where: str) -> UserError | None:
    if sqlstate == "53100":  # disk_full
        return _full(where)
    if sqlstate in ("XX001", "XX002"):  # data_corrupted, index_corrupted
        return _damaged(where, None)
    if sqlstate == "58030":  # io_error
        return UserError(
            f"Erreur de lecture ou d'écriture du disque du serveur de base de données ({where}). "
            f"Prévenez la personne qui gère ce serveur. {UNCHANGED}"
        )
    if sqlstate.startswith("53"):  # insufficient resources: memory, connections
        return UserError(
            f"Le serveur de base de données ({where}) manque de ressources (mémoire ou connexions). "
            f"Réessayez plus tard ou prévenez la personne qui le gère. {UNCHANGED}"
        )
    if sqlstate in {"25006", "42501"}:  # read-only transaction, insufficient privilege
        return UserError(
            f"Le compte utilisé n'a pas le droit d'écrire dans la base de données ({where}). "
            f"Vérifiez l'adresse et les droits. {UNCHANGED}"
        )
    if sqlstate.startswith(("08", "28", "3D", "57P")):  # connection, authentication, no such database, shutdown
        return UserError(
            f"Base de données inaccessible ({where}) : le serveur ne répond pas ou refuse la connexion. "
            "Vérifiez qu'il fonctionne, l'adresse et les droits."
        )
    return None


def database_problem(orig: Any, where: str, path: Path | None) -> UserError | None:
    """The French refusal for a driver error (`orig`), or None for a bug.
    `where` names the database without its password; `path` is the SQLite file, if any."""
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return _sqlite(code, where, path)
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return _postgres(sqlstate, where)
    return None
