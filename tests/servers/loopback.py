"""The loopback-only rule for tests and benchmarks: nothing may reach past 127.0.0.0/8 and ::1."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

_LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def is_loopback(address: object) -> bool:
    if not isinstance(address, tuple) or not address:
        return True  # AF_UNIX paths and the like
    try:
        ip = ipaddress.ip_address(str(address[0]).split("%")[0])
    except ValueError:
        return False  # a host name here would mean a lookup outside our resolver
    return any(ip in net for net in _LOOPBACK)


def guard_sockets(refuse: Callable[[object], None], setattr_: Callable[[Any, str, Any], None] = setattr) -> None:
    """Route every connect, connect_ex and sendto through `refuse(address)`, which raises for a
    non-loopback address; `setattr_` is pytest's monkeypatch.setattr in tests (undone after each)."""
    real_connect, real_connect_ex, real_sendto = socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto

    def connect(self: socket.socket, address: object) -> None:
        refuse(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        refuse(address)
        return real_connect_ex(self, address)

    def sendto(self: socket.socket, data: bytes, *args: object) -> int:
        refuse(args[-1])
        return real_sendto(self, data, *args)

    setattr_(socket.socket, "connect", connect)
    setattr_(socket.socket, "connect_ex", connect_ex)
    setattr_(socket.socket, "sendto", sendto)
