"""The network addresses a remote node may connect from.

A calling AE title is a label the peer chooses (PS3.8 A-ASSOCIATE-RQ), so anyone who learns it
can send in its name. A node may therefore be pinned to IP addresses and CIDR networks; the
listener refuses an association whose AE title is registered but whose TCP peer address is
not among them. Addresses and AE titles are not PHI and may be logged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

__all__ = ["Network", "address_allowed", "normalized_networks", "parse_networks"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _tokens(text: str) -> list[str]:
    # One per line is what the admin asks for; commas and spaces are forgiven.
    return text.replace(",", " ").split()


def _explain(token: str) -> ValidationError:
    try:
        loose = ipaddress.ip_network(token, strict=False)
    except ValueError:
        return ValidationError(
            _(
                "“%(value)s” is not an IP address or network. Write one address (such as "
                "192.0.2.10) or one network in CIDR notation (such as 10.0.0.0/8) per line; "
                "host names are not accepted."
            ),
            code="invalid",
            params={"value": token},
        )
    return ValidationError(
        _(
            "“%(value)s” has address bits set after the /%(prefix)s prefix. Write the network "
            "as %(network)s, or the single address as %(address)s."
        ),
        code="host_bits",
        params={
            "value": token,
            "prefix": loose.prefixlen,
            "network": str(loose),
            "address": token.split("/", 1)[0],
        },
    )


def parse_networks(text: str) -> list[Network]:
    """Parse the allowed peer addresses of a node (one address or CIDR network per line).

    Raises :class:`ValidationError` naming every entry that is not an address or a network.
    """
    networks: list[Network] = []
    errors: list[ValidationError] = []
    for token in _tokens(text or ""):
        try:
            networks.append(ipaddress.ip_network(token, strict=True))
        except ValueError:
            errors.append(_explain(token))
    if errors:
        raise ValidationError(errors)
    return networks


def validate_peer_networks(text: str) -> None:
    parse_networks(text)


def normalized_networks(text: str) -> str:
    """The same entries one per line, single addresses without a /32 or /128 suffix."""
    return "\n".join(
        str(n.network_address) if n.prefixlen == n.max_prefixlen else str(n)
        for n in parse_networks(text)
    )


def address_allowed(address: str, networks: Iterable[Network]) -> bool:
    """Whether the peer ``address`` lies in one of ``networks``.

    An IPv4 peer seen by a dual-stack socket as ``::ffff:a.b.c.d`` matches IPv4 networks too.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone index is not part of it
    candidates = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        candidates.append(ip.ipv4_mapped)
    return any(candidate in network for candidate in candidates for network in networks)
