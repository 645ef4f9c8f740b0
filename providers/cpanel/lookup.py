"""Looking one address up on the cPanel account: cPanel lists per domain (forwarders) or by pattern
(mailboxes), so every check-then-act step narrows the list the same way here."""
from __future__ import annotations

import re

from providers.cpanel.protocol import CpanelAPI, Forwarder, Mailbox


async def forwarders_of(cpanel: CpanelAPI, address: str) -> list[Forwarder]:
    """Every forwarder line of the address (one per destination, or its `:fail:` bounce)."""
    domain = address.rpartition("@")[2]
    return [f for f in await cpanel.list_forwarders(domain) if f.address == address]


async def mailbox_of(cpanel: CpanelAPI, address: str) -> Mailbox | None:
    return next((m for m in await cpanel.list_pops(regex=f"^{re.escape(address)}$") if m.email == address), None)
