"""A cPanel UAPI sandbox: the `/execute/Email/*` envelope, token auth, state kept in memory.

Run alone: `python -m providers.cpanel.sandbox --port 8102 --user mailmkt --token SANDBOXCPANELTOKEN`.
"""
from __future__ import annotations

import argparse
import hashlib
import re
import threading
import time
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from providers.sandbox_kit import FaultPlan, sandbox_app, serve


def _ok(data, transformed: bool = False) -> JSONResponse:
    return JSONResponse({"status": 1, "errors": None, "messages": None, "warnings": None,
                         "metadata": {"transformed": 1} if transformed else {}, "data": data})


def _fail(message: str) -> JSONResponse:
    return JSONResponse({"status": 0, "errors": [message], "messages": None, "warnings": None,
                         "metadata": {}, "data": None})


class CpanelState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.forwarders: dict[str, list[str]] = {}       # address -> destinations
        self.pops: dict[str, dict] = {}                   # address -> account
        self.calls: list[str] = []
        self.responders: dict[str, dict] = {}            # address -> auto responder

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "forwarders": [{"address": a, "destination": d} for a, ds in sorted(self.forwarders.items()) for d in ds],
                # a hash, never the password: enough for a test to tell whose password it is
                "pops": [{"email": e, "quota": p["quota"], "suspended_login": p["suspended_login"],
                          "password_sha256": p["password_sha256"]}
                         for e, p in sorted(self.pops.items())],
                "calls": list(self.calls),
                "responders": {k: dict(v) for k, v in self.responders.items()},
            }

    def reset(self) -> None:
        with self.lock:
            self.forwarders.clear()
            self.pops.clear()
            self.calls.clear()
            self.responders.clear()


def create_app(user: str = "mailmkt", token: str = "SANDBOXCPANELTOKEN") -> Starlette:
    state = CpanelState()
    plan = FaultPlan()
    expected = f"cpanel {user}:{token}"

    async def execute(request: Request) -> Response:
        if request.headers.get("authorization") != expected:
            return PlainTextResponse("<!DOCTYPE html><html><body>Access denied</body></html>", status_code=401)
        module, function = request.path_params["module"], request.path_params["function"]
        params = dict(request.query_params)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.form()).items()})
        if module != "Email":
            return _fail(f"The module {module} is not available in this sandbox.")
        handler = HANDLERS.get(function)
        if handler is None:
            return _fail(f"Unknown function Email::{function}.")
        with state.lock:
            state.calls.append(f"{function} {params.get('domain') or params.get('email') or params.get('address', '')}")
            return handler(state, params)

    async def set_usage(request: Request) -> Response:
        """Sandbox only: pretend a mailbox holds this much mail."""
        body = await request.json()
        with state.lock:
            account = state.pops.get(request.path_params["address"].lower())
            if account is None:
                return JSONResponse({"error": "no such mailbox"}, status_code=404)
            account["used_bytes"] = int(float(body.get("used_mb", 0)) * 1048576)
        return JSONResponse({"ok": True})

    return sandbox_app(plan, state, [
        Route("/execute/{module}/{function}", execute, methods=["GET", "POST"]),
        Route("/__sandbox/pops/{address}/usage", set_usage, methods=["POST"]),
    ])


def _need(params: dict, *names: str) -> str | None:
    for name in names:
        if not params.get(name):
            return f"You must specify the “{name}” parameter."
    return None


def add_forwarder(state: CpanelState, p: dict) -> JSONResponse:
    if (err := _need(p, "domain", "email", "fwdopt")):
        return _fail(err)
    if p["fwdopt"] not in ("fwd", "fail"):
        return _fail("This sandbox supports only fwdopt=fwd and fwdopt=fail.")
    address = p["email"].lower()
    if address.rpartition("@")[2] != p["domain"].lower():
        return _fail(f"The address “{address}” is not in the domain “{p['domain']}”.")
    if p["fwdopt"] == "fail":
        line = f":fail: {p.get('failmsgs') or 'No such person at this address'}"
        targets = state.forwarders.setdefault(address, [])
        if line not in targets:
            targets.append(line)
        return _ok([{"domain": p["domain"], "email": address, "forward": line}], transformed=True)
    if (err := _need(p, "fwdemail")):
        return _fail(err)
    targets = state.forwarders.setdefault(address, [])
    added = []
    for dest in (d.strip() for d in p["fwdemail"].split(",")):
        if dest and dest not in targets:  # cPanel keeps one line per (address, destination)
            targets.append(dest)
        added.append({"domain": p["domain"], "email": address, "forward": dest})
    return _ok(added, transformed=True)


def list_forwarders(state: CpanelState, p: dict) -> JSONResponse:
    if (err := _need(p, "domain")):
        return _fail(err)
    domain = p["domain"].lower()
    rows = []
    for address, dests in sorted(state.forwarders.items()):
        if address.rpartition("@")[2] == domain:
            for dest in dests:
                rows.append({"dest": address, "forward": dest, "html_dest": address, "html_forward": dest,
                             "uri_dest": quote(address), "uri_forward": quote(dest)})
    return _ok(rows, transformed=True)


def delete_forwarder(state: CpanelState, p: dict) -> JSONResponse:
    if (err := _need(p, "address", "forwarder")):
        return _fail(err)
    address = p["address"].lower()
    dests = state.forwarders.get(address, [])
    if p["forwarder"] not in dests:
        return _fail(f"The forwarder “{address}” to “{p['forwarder']}” does not exist.")
    dests.remove(p["forwarder"])
    if not dests:
        state.forwarders.pop(address, None)
    return _ok(None)


def add_pop(state: CpanelState, p: dict) -> JSONResponse:
    if (err := _need(p, "email", "password")):
        return _fail(err)
    local, _, dom = p["email"].lower().partition("@")
    domain = (dom or p.get("domain") or "").lower()
    if not domain:
        return _fail("You must specify the “domain” parameter.")
    if local == "cpanel":
        return _fail("The name “cpanel” is reserved.")
    address = f"{local}@{domain}"
    if address in state.pops:
        return _fail(f"The account {address} already exists!")
    if len(p["password"]) < 8:
        return _fail("The password has a strength rating lower than the required minimum.")
    quota = p.get("quota", "0")
    state.pops[address] = {
        "password_sha256": hashlib.sha256(p["password"].encode()).hexdigest(),
        "quota": 0 if quota in ("0", "unlimited") else int(quota),
        "suspended_login": 0, "suspended_incoming": 0, "mtime": int(time.time()),
    }
    return _ok(f"{local}+{domain}")


def delete_pop(state: CpanelState, p: dict) -> JSONResponse:
    if (err := _need(p, "email")):
        return _fail(err)
    local, _, dom = p["email"].lower().partition("@")
    address = f"{local}@{(dom or p.get('domain') or '').lower()}"
    if address not in state.pops:
        return _fail(f"The account {address} does not exist.")
    del state.pops[address]
    return _ok(None)


def _pop_address(p: dict) -> str:
    local, _, dom = p.get("email", "").lower().partition("@")
    return f"{local}@{(dom or p.get('domain') or '').lower()}"


def passwd_pop(state: CpanelState, p: dict) -> JSONResponse:
    if (err := _need(p, "email", "password")):
        return _fail(err)
    address = _pop_address(p)
    if address not in state.pops:
        return _fail(f"The account {address} does not exist.")
    if len(p["password"]) < 8:
        return _fail("The password has a strength rating lower than the required minimum.")
    state.pops[address]["password_sha256"] = hashlib.sha256(p["password"].encode()).hexdigest()
    return _ok(None)


def list_pops_with_disk(state: CpanelState, p: dict) -> JSONResponse:
    """As cPanel lists them: `_diskused`/`_diskquota` in bytes (the quota a numeric string, null when
    unlimited), `diskused`/`diskquota` in MB (the quota "unlimited"), human and percent forms beside."""
    pattern = re.compile(p["regex"]) if p.get("regex") else None
    rows = []
    for address, acct in sorted(state.pops.items()):
        local, _, domain = address.partition("@")
        if p.get("domain") and domain != p["domain"].lower():
            continue
        if p.get("email") and p["email"].lower() not in (local, address):
            continue
        if pattern and not pattern.search(address):
            continue
        quota = acct["quota"] * 1048576
        used = acct.get("used_bytes", 0)
        percent = 100 * used / quota if quota else 0
        rows.append({
            "email": address, "user": local, "domain": domain, "login": address,
            "_diskquota": str(quota) if quota else None,
            "diskquota": f"{acct['quota']:.2f}" if quota else "unlimited",
            "txtdiskquota": f"{acct['quota']:.2f}" if quota else "unlimited",
            "humandiskquota": f"{acct['quota']} MB" if quota else "None",
            "_diskused": used, "diskused": round(used / 1048576, 2),
            "humandiskused": f"{used / 1048576:.2f} MB" if used else "None",
            "diskusedpercent": int(percent), "diskusedpercent20": 20 * int(percent / 20),
            "diskusedpercent_float": round(percent, 2),
            "mtime": acct.get("mtime", 0),
            "suspended_login": acct["suspended_login"], "suspended_incoming": acct["suspended_incoming"],
            "suspended_outgoing": 0, "hold_outgoing": 0,
            "has_suspended": int(bool(acct["suspended_login"] or acct["suspended_incoming"])),
        })
    if p.get("maxaccounts"):
        rows = rows[:int(p["maxaccounts"])]
    return _ok(rows, transformed=True)


def _whole(p: dict, name: str) -> int | str:
    """The parameter as a whole number, or cPanel's refusal sentence."""
    try:
        return int(p[name])
    except (KeyError, ValueError):
        return f"The “{name}” parameter must be a whole number."


def add_auto_responder(state: CpanelState, p: dict) -> JSONResponse:
    """As strict as cPanel: every parameter but `charset` required, whole numbers where numbers go,
    `stop` after `start` and not already past (an autoresponder that would never run)."""
    if (err := _need(p, "email", "domain", "from", "subject", "body", "is_html", "interval", "start", "stop")):
        return _fail(err)
    numbers = {name: _whole(p, name) for name in ("is_html", "interval", "start", "stop")}
    for value in numbers.values():
        if isinstance(value, str):
            return _fail(value)
    if numbers["is_html"] not in (0, 1):
        return _fail("The “is_html” parameter must be 0 or 1.")
    if numbers["interval"] < 0:
        return _fail("The “interval” parameter must be a non-negative whole number.")
    start, stop = numbers["start"], numbers["stop"]
    if stop <= start:
        return _fail("The stop time must be after the start time.")
    if stop <= time.time():
        return _fail("The stop time is in the past.")
    address = _pop_address(p)
    state.responders[address] = {"subject": p["subject"], "body": p["body"], "from": p["from"],
                                 "interval": numbers["interval"], "start": start, "stop": stop,
                                 "is_html": numbers["is_html"]}
    return _ok(None)


def delete_auto_responder(state: CpanelState, p: dict) -> JSONResponse:
    if (err := _need(p, "email")):
        return _fail(err)
    state.responders.pop(p["email"].lower(), None)
    return _ok(None)


def get_auto_responder(state: CpanelState, p: dict) -> JSONResponse:
    if (err := _need(p, "email")):
        return _fail(err)
    found = state.responders.get(p["email"].lower())
    return _ok({**found, "charset": "UTF-8"} if found else {})


def list_auto_responders(state: CpanelState, p: dict) -> JSONResponse:
    if (err := _need(p, "domain")):
        return _fail(err)
    domain = p["domain"].lower()
    pattern = re.compile(p["regex"]) if p.get("regex") else None
    return _ok([{"email": address, "subject": reply["subject"]} for address, reply in sorted(state.responders.items())
                if address.rpartition("@")[2] == domain and (not pattern or pattern.search(address))],
               transformed=True)


def list_pops(state: CpanelState, p: dict) -> JSONResponse:
    pattern = re.compile(p["regex"]) if p.get("regex") else None
    rows = [{"email": e, "login": e, "suspended_incoming": a["suspended_incoming"],
             "suspended_login": a["suspended_login"]}
            for e, a in sorted(state.pops.items()) if not pattern or pattern.search(e)]
    if p.get("skip_main") not in ("1", 1):
        rows.insert(0, {"email": "mailmkt", "login": "Main Account", "suspended_incoming": 0, "suspended_login": 0})
    return _ok(rows, transformed=True)


def _set_login(suspended: int):
    def handler(state: CpanelState, p: dict) -> JSONResponse:
        if (err := _need(p, "email")):
            return _fail(err)
        address = _pop_address(p)
        if address not in state.pops:
            return _fail(f"The account {address} does not exist.")
        state.pops[address]["suspended_login"] = suspended
        return _ok(None)
    return handler


HANDLERS = {
    "suspend_login": _set_login(1),
    "unsuspend_login": _set_login(0),
    "add_forwarder": add_forwarder,
    "list_forwarders": list_forwarders,
    "delete_forwarder": delete_forwarder,
    "add_pop": add_pop,
    "list_pops": list_pops,
    "delete_pop": delete_pop,
    "passwd_pop": passwd_pop,
    "list_pops_with_disk": list_pops_with_disk,
    "add_auto_responder": add_auto_responder,
    "delete_auto_responder": delete_auto_responder,
    "get_auto_responder": get_auto_responder,
    "list_auto_responders": list_auto_responders,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8102)
    parser.add_argument("--user", default="mailmkt")
    parser.add_argument("--token", default="SANDBOXCPANELTOKEN")
    args = parser.parse_args()
    serve(create_app(args.user, args.token), args.port)


if __name__ == "__main__":
    main()
