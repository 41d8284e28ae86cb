"""Errors that reach a person: always a French message, always exit code 2."""

from __future__ import annotations

import errno


class UserError(Exception):
    """Bad input or environment. `message` is plain French and says what to do."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# The operating system words its errors in English (`strerror`): a person reads these instead.
_OS_REASONS = {
    errno.ENOENT: "fichier ou dossier introuvable",
    errno.EACCES: "accès refusé",
    errno.EPERM: "opération non permise",
    errno.ENOSPC: "disque plein",
    errno.EDQUOT: "quota d'espace disque dépassé",
    errno.EROFS: "disque en lecture seule",
    errno.EISDIR: "c'est un dossier, pas un fichier",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.EIO: "erreur de lecture ou d'écriture du disque",
    errno.ELOOP: "trop de liens symboliques (boucle)",
    errno.ENAMETOOLONG: "nom de fichier trop long",
    errno.EEXIST: "existe déjà",
    errno.EBUSY: "ressource occupée",
    errno.EMFILE: "trop de fichiers ouverts",
    errno.ENFILE: "trop de fichiers ouverts",
    errno.ENOMEM: "mémoire insuffisante",
    errno.EFBIG: "fichier trop gros",
    errno.ETIMEDOUT: "délai dépassé",
    errno.ENXIO: "périphérique absent",
    errno.ENODEV: "périphérique absent",
    errno.EINVAL: "opération impossible sur ce fichier",
    errno.ECONNREFUSED: "connexion refusée",
    errno.EHOSTUNREACH: "machine injoignable",
    errno.ENETUNREACH: "réseau injoignable",
}


def os_reason(exc: OSError) -> str:
    """The cause of an operating-system error in plain French (never the English `strerror`)."""
    code = exc.errno
    if code in _OS_REASONS:
        return _OS_REASONS[code]
    if code is not None:
        return f"erreur système {errno.errorcode.get(code, code)}"
    return "erreur système"
