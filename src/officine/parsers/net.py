"""Listening sockets from /proc/net/{tcp,tcp6,udp,udp6} (numeric, never translated)."""

from __future__ import annotations

import ipaddress
import socket
import struct
from dataclasses import dataclass

from officine.parsers import ParseError

TCP_LISTEN = "0A"
UDP_UNCONNECTED = "07"


@dataclass(frozen=True)
class Listener:
    proto: str  # tcp or udp
    address: str
    port: int
    inode: int

    @property
    def loopback_only(self) -> bool:
        return ipaddress.ip_address(self.address).is_loopback

    def to_json(self) -> dict[str, object]:
        return {"proto": self.proto, "address": self.address, "port": self.port}


def _decode_address(hex_addr: str) -> str:
    raw = bytes.fromhex(hex_addr)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, struct.pack("<I", struct.unpack(">I", raw)[0]))
    if len(raw) == 16:
        words = struct.unpack(">4I", raw)
        packed = b"".join(struct.pack("<I", w) for w in words)
        addr = ipaddress.IPv6Address(packed)
        return str(addr.ipv4_mapped) if addr.ipv4_mapped else str(addr)
    raise ParseError(f"adresse de longueur inattendue : {hex_addr!r}")


def parse_proc_net(text: str, proto: str) -> list[Listener]:
    """Sockets that accept connections from somewhere: TCP LISTEN, unconnected bound UDP."""
    listeners = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or ":" not in fields[1]:
            continue
        local, remote, state = fields[1], fields[2], fields[3]
        wanted = TCP_LISTEN if proto == "tcp" else UDP_UNCONNECTED
        if state != wanted:
            continue
        addr_hex, _, port_hex = local.rpartition(":")
        try:
            if proto == "udp" and int(remote.rpartition(":")[2], 16) != 0:
                continue
            listeners.append(Listener(proto, _decode_address(addr_hex), int(port_hex, 16), int(fields[9])))
        except (ValueError, ParseError):
            continue
    return listeners
