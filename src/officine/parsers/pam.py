"""PAM stacks (/etc/pam.d/*)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PamLine:
    type: str  # auth, account, password, session (leading '-' removed)
    control: str
    module: str  # basename, e.g. pam_pwquality.so
    args: dict[str, str] = field(default_factory=dict)
    flags: tuple[str, ...] = ()


def parse_pam(text: str) -> list[PamLine]:
    lines: list[PamLine] = []
    logical: list[str] = []
    buffer = ""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        logical.append(buffer + line)
        buffer = ""
    if buffer:
        logical.append(buffer)
    for line in logical:
        tokens = _tokens(line)
        if len(tokens) < 2:
            continue
        if tokens[0].startswith("@include"):
            lines.append(PamLine("include", "include", tokens[1]))
            continue
        if len(tokens) < 3:
            continue
        ptype = tokens[0].lstrip("-").lower()
        control = tokens[1]
        module = tokens[2].rsplit("/", 1)[-1]
        args: dict[str, str] = {}
        flags: list[str] = []
        for tok in tokens[3:]:
            if "=" in tok:
                k, _, v = tok.partition("=")
                args[k] = v
            else:
                flags.append(tok)
        lines.append(PamLine(ptype, control, module, args, tuple(flags)))
    return lines


def _tokens(line: str) -> list[str]:
    """Split on whitespace, keeping [bracketed controls] together."""
    tokens: list[str] = []
    current = ""
    depth = 0
    for ch in line:
        if ch == "[":
            depth += 1
        elif ch == "]" and depth:
            depth -= 1
        if ch.isspace() and depth == 0:
            if current:
                tokens.append(current)
                current = ""
        else:
            current += ch
    if current:
        tokens.append(current)
    return tokens
