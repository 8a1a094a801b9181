"""A single DNS A-record query over UDP, enough to check a cluster's DNS Service.

The standard library has no resolver that can be pointed at one server, and one
query does not justify a dependency: the packet is a fixed header, the name's labels,
and type A / class IN; the A records of the answer are read as IPv4 addresses.
"""

from __future__ import annotations

import secrets
import socket
import struct


def query_a(server: str, name: str, port: int = 53, timeout: float = 3.0) -> list[str]:
    """IPv4 addresses ``server`` answers for ``name`` (empty when it has none)."""
    ident = secrets.randbits(16)
    question = b"".join(bytes([len(label)]) + label.encode() for label in name.split("."))
    packet = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + question + b"\0\0\1\0\1"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(packet, (server, port))
        reply = sock.recv(4096)
    got_id, _flags, _qd, answers = struct.unpack(">HHHH", reply[:8])
    if got_id != ident:
        raise ValueError("DNS reply for another query")
    offset = 12 + len(question) + 5  # header, question name + root label, type, class
    found = []
    for _ in range(answers):
        offset = _skip_name(reply, offset)
        rtype, _cls, _ttl, length = struct.unpack(">HHIH", reply[offset : offset + 10])
        data = reply[offset + 10 : offset + 10 + length]
        if rtype == 1 and length == 4:
            found.append(socket.inet_ntoa(data))
        offset += 10 + length
    return found


def _skip_name(reply: bytes, offset: int) -> int:
    """Offset just past an encoded name: labels up to the root, or a 2-byte pointer."""
    while True:
        length = reply[offset]
        if length == 0:
            return offset + 1
        if length & 0xC0 == 0xC0:
            return offset + 2
        offset += 1 + length
