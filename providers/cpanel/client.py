"""The real cPanel UAPI client: `GET https://host:2083/execute/Email/<fn>` with a token header."""
from __future__ import annotations

import logging
from typing import Any

import httpx

from providers.cpanel.protocol import MIB, AutoResponder, Forwarder, Mailbox, MailboxUsage
from providers.errors import LogicalError, TechnicalError

log = logging.getLogger(__name__)


class CpanelClient:
    def __init__(self, base_url: str, user: str, token: str, *, timeout: float = 20.0,
                 transport: httpx.AsyncBaseTransport | None = None):
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"cpanel {user}:{token}"},
            timeout=timeout,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, function: str, **params: Any) -> Any:
        path = f"/execute/Email/{function}"
        try:
            response = await self._http.get(path, params={k: v for k, v in params.items() if v is not None})
        except httpx.TimeoutException as exc:
            raise TechnicalError(f"cPanel {function} timed out", provider="cpanel") from exc
        except httpx.TransportError as exc:
            raise TechnicalError(f"cPanel {function} unreachable: {exc}", provider="cpanel") from exc
        if response.status_code in (401, 403):
            # A configuration fault (token revoked or wrong). Temporal keeps retrying, so fixing
            # the token lets every waiting step finish on its own.
            raise TechnicalError(f"cPanel refused our token ({response.status_code})", provider="cpanel")
        if response.status_code >= 400:
            raise TechnicalError(f"cPanel {function} answered HTTP {response.status_code}", provider="cpanel")
        try:
            body = response.json()
        except ValueError as exc:
            raise TechnicalError(f"cPanel {function} answered something that is not JSON", provider="cpanel") from exc
        if isinstance(body, dict) and isinstance(body.get("result"), dict):
            body = body["result"]  # the wrapped form some cPanel front ends return
        if not isinstance(body, dict) or "status" not in body:
            raise TechnicalError(f"cPanel {function} answered without a status", provider="cpanel")
        if body["status"] != 1:
            errors = body.get("errors") or ["unknown error"]
            raise LogicalError(f"cPanel {function}: {'; '.join(map(str, errors))}", provider="cpanel")
        return body.get("data")

    async def list_forwarders(self, domain: str) -> list[Forwarder]:
        data = await self._call("list_forwarders", domain=domain) or []
        # UAPI naming is inverted: `dest` is the forwarder's own address, `forward` its target.
        return [Forwarder(item["dest"].lower(), item["forward"]) for item in data]

    async def add_forwarder(self, address: str, destination: str) -> None:
        domain = address.rpartition("@")[2]
        await self._call("add_forwarder", domain=domain, email=address, fwdopt="fwd", fwdemail=destination)

    async def add_fail_forwarder(self, address: str, message: str) -> None:
        """Mail to the address bounces with `message` (cPanel lists it as ':fail: <message>')."""
        domain = address.rpartition("@")[2]
        await self._call("add_forwarder", domain=domain, email=address, fwdopt="fail", failmsgs=message)

    async def suspend_login(self, address: str) -> None:
        await self._call("suspend_login", email=address)

    async def unsuspend_login(self, address: str) -> None:
        await self._call("unsuspend_login", email=address)

    async def delete_forwarder(self, address: str, destination: str) -> None:
        await self._call("delete_forwarder", address=address, forwarder=destination)

    async def add_pop(self, local_part: str, domain: str, password: str, quota_mb: int) -> str:
        return await self._call(
            "add_pop", email=local_part, domain=domain, password=password, quota=quota_mb,
            send_welcome_email=0,
        )

    async def delete_pop(self, address: str) -> None:
        local, _, domain = address.partition("@")
        await self._call("delete_pop", email=local, domain=domain)

    async def passwd_pop(self, address: str, password: str) -> None:
        local, _, domain = address.partition("@")
        await self._call("passwd_pop", email=local, domain=domain, password=password)

    async def mailbox_usage(self, address: str) -> MailboxUsage | None:
        local, _, domain = address.partition("@")
        return (await self._pops_with_disk(domain=domain, email=local)).get(address)

    async def list_pops_with_disk(self, domain: str | None = None) -> dict[str, MailboxUsage]:
        """Every mailbox (of the domain, or of the account) with its disk use and quota."""
        return await self._pops_with_disk(domain=domain)

    async def _pops_with_disk(self, **params: Any) -> dict[str, MailboxUsage]:
        data = await self._call("list_pops_with_disk", no_validate=1, **params) or []
        return {str(item["email"]).lower(): _usage(item) for item in data if "@" in str(item.get("email", ""))}

    async def add_auto_responder(self, address: str, from_name: str, reply: AutoResponder) -> None:
        local, _, domain = address.partition("@")
        await self._call("add_auto_responder", email=local, domain=domain, **{"from": from_name},
                         subject=reply.subject, body=reply.body, is_html=0, interval=reply.interval_hours,
                         start=reply.start, stop=reply.stop)

    async def delete_auto_responder(self, address: str) -> None:
        await self._call("delete_auto_responder", email=address)

    async def get_auto_responder(self, address: str) -> AutoResponder | None:
        try:
            data = await self._call("get_auto_responder", email=address)
        except LogicalError:
            return None
        if not data or not data.get("subject"):
            return None
        return AutoResponder(data["subject"], data.get("body", ""), int(data.get("interval") or 0),
                             int(data.get("start") or 0), int(data.get("stop") or 0))

    async def list_auto_responders(self, domain: str) -> dict[str, str]:
        """The subject of every automatic reply on the domain, by address."""
        data = await self._call("list_auto_responders", domain=domain) or []
        return {str(item["email"]).lower(): str(item.get("subject") or "") for item in data}

    async def list_pops(self, regex: str | None = None) -> list[Mailbox]:
        data = await self._call("list_pops", regex=regex, skip_main=1) or []
        return [
            Mailbox(item["email"].lower(), bool(item.get("suspended_login")), bool(item.get("suspended_incoming")))
            for item in data
        ]


def _usage(item: dict[str, Any]) -> MailboxUsage:
    """`_diskused` and `_diskquota` are bytes (numbers or numeric strings; the quota null or 0 when
    unlimited); `diskused`/`diskquota` are MB, the quota "unlimited" when there is none."""
    if "_diskused" in item:
        used = int(float(item.get("_diskused") or 0))
    else:
        used = int(float(item.get("diskused") or 0) * MIB)
    if "_diskquota" in item:
        quota = item.get("_diskquota")
        quota_mb = int(float(quota) / MIB) if quota not in (None, "", 0, "0", "unlimited") else None
    else:
        quota = item.get("diskquota")
        quota_mb = int(float(quota)) if quota not in (None, "", 0, "0", "unlimited") else None
    return MailboxUsage(used, quota_mb or None)
