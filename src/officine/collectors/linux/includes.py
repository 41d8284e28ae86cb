"""Following include directives (PAM `@include`/`include`/`substack`, sshd `Include`) safely.

A configuration can include itself, or fan out to itself many times: a few hundred bytes then
expand to millions of lines. Each file is expanded once per configuration, and the whole
expansion is bounded. A cycle, or a nesting deeper than the programs themselves accept
(Linux-PAM and OpenSSH both stop at 16 levels and then refuse the configuration), or an
expansion past the bounds, is reported as a problem: the configuration cannot be judged, the
fact is `unknown`, never `pass`.
"""

from __future__ import annotations

from officine.host.base import Host, Observation

MAX_DEPTH = 16  # PAM_SUBSTACK_MAX_LEVEL in Linux-PAM, SSH_MAX_INCLUDE_DEPTH in OpenSSH
MAX_FILES = 128
MAX_BYTES = 4_000_000
MAX_ITEMS = 20_000  # lines or settings kept after expansion


class Expansion:
    """The state of one configuration's expansion: files seen, budget left, first problem."""

    def __init__(self, host: Host, used: list[Observation]) -> None:
        self.host = host
        self.used = used  # every observation read, once each, for the fact's sources
        self.expanded: set[str] = set()
        self.bytes = 0
        self.items = 0
        self.problem: str | None = None

    def enter(self, path: str, chain: tuple[str, ...]) -> Observation | None:
        """The file to expand next, or None when it must not be (already done, or a problem).
        `chain` is the files that include it, outermost first."""
        if self.problem is not None:
            return None
        if path in chain:
            self.problem = f"inclusion en boucle : {' → '.join((*chain, path))}"
            return None
        if path in self.expanded:
            return None  # the same file included twice adds nothing to "first value wins" or to a stack
        if len(chain) >= MAX_DEPTH:
            self.problem = f"plus de {MAX_DEPTH} niveaux d'inclusion (le programme refuse cette configuration)"
            return None
        if len(self.expanded) >= MAX_FILES:
            self.problem = f"plus de {MAX_FILES} fichiers inclus"
            return None
        self.expanded.add(path)
        obs = self.host.read_file(path)
        self.used.append(obs)
        if not obs.ok:
            return obs
        self.bytes += len(obs.output or "")
        if self.bytes > MAX_BYTES:
            self.problem = f"plus de {MAX_BYTES // 1_000_000} Mo de configuration inclus"
            return None
        return obs

    def keep(self) -> bool:
        """Count one more line or setting; False (and a problem) past the bound."""
        if self.problem is not None:
            return False
        self.items += 1
        if self.items > MAX_ITEMS:
            self.problem = f"plus de {MAX_ITEMS} lignes après inclusion"
            return False
        return True
