"""Password-manager files for the tests, built for real: a KeePass database written by pykeepass
(the library KeePassXC users' files are read with), CSV exports in the column layouts Bitwarden,
Firefox and Chrome write, and a Pwned Passwords list in its published format."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

MASTER = "correct-cheval-agrafe-batterie-lavande"
# title, user name, password, expired: each line's expected findings are listed in the test.
ENTRIES = [
    ("Messagerie", "marie@pharmacie.fr", "azerty", False),  # first lines of the Richelieu list
    ("Coffre-fort", "", "1234", False),
    ("Grossiste", "pharmacie-tilleuls", "Soleil2024!!", False),
    ("Box internet", "admin", "Marseille2023!", False),
    ("NAS", "admin", "Marseille2024!", False),
    ("LGO", "marie", "Gx7#pLw2!Qz9vR4m", False),
    ("Ameli pro", "marie", "Gx7#pLw2!Qz9vR4m", False),
    ("Imprimante", "admin", "", False),
    ("Banque", "12345678", "barque-prenant-innova-regret-commuter-jubile-rikiki", False),
    ("Wifi pharmacie", "", "qT8!vR3#mK9@xL2$wN6%", False),
    ("Ancien site", "marie", "Hb6$wQ1!zP8#kR3m", True),
    ("Routeur Kq9#vL2m!Xw7pZ4r", "admin", "Kq9#vL2m!Xw7pZ4r", False),
    ("Routeur secours", "admin", "Kq9#vL2m!Xw7pZ4r", False),
    ("Carte SIM", "", "7391", False),
    ("Site fournisseur", "commandes", "Vx3!nT8qLm2#Rk5w", False),
]
NOTE = ("Code de l'alarme", "", "", False)  # neither login nor password: a note, not judged
IN_RECYCLE_BIN = ("Ancien compte", "marie", "Poubelle2019!", False)
LEAKED = {"Vx3!nT8qLm2#Rk5w": 42}
ALL_PASSWORDS = sorted({p for _, _, p, _ in [*ENTRIES, IN_RECYCLE_BIN] if p} | {MASTER})


def keepass(path: Path, master: str = MASTER, keyfile: Path | None = None) -> Path:
    from pykeepass import create_database

    kp = create_database(str(path), password=master, keyfile=str(keyfile) if keyfile else None)
    group = kp.add_group(kp.root_group, "Pharmacie")
    for title, user, password, expired in [*ENTRIES, NOTE]:
        expiry = datetime.now(UTC) - timedelta(days=3) if expired else None
        entry = kp.add_entry(group, title, user, password, expiry_time=expiry, force_creation=True)
        if expired:
            entry.expires = True
    old = kp.add_entry(kp.root_group, *IN_RECYCLE_BIN[:3], force_creation=True)
    kp.trash_entry(old)
    kp.save()
    return path


def bitwarden_csv(path: Path) -> Path:
    lines = ["folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp"]
    for title, user, password, _ in ENTRIES:
        lines.append(f',,login,"{title}",,,0,https://exemple.fr,"{user}","{password}",')
    lines.append(',,note,"Code de l\'alarme","1234",,0,,,,')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def pwned_list(path: Path, extra: int = 5000) -> Path:
    """Sorted SHA-1 lines, CRLF-terminated like the published file: the leaked passwords among
    `extra` others."""
    rows = {hashlib.sha1(p.encode()).hexdigest().upper(): n for p, n in LEAKED.items()}  # noqa: S324
    rows |= {hashlib.sha1(f"autre-{i}".encode()).hexdigest().upper(): i + 1 for i in range(extra)}  # noqa: S324
    path.write_bytes("".join(f"{h}:{n}\r\n" for h, n in sorted(rows.items())).encode())
    return path


def run(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`officine …` in a new process, with what a script would pipe in."""
    import os

    return subprocess.run(
        [sys.executable, "-m", "officine", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
        check=False,
    )
