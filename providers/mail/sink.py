"""An SMTP sink for dev and tests: aiosmtpd stores every message; a small web page shows them
(`/`), and `/api/messages` returns them as JSON. Run: `python -m providers.mail.sink`.

Replies can be injected at MAIL FROM, RCPT TO and DATA: `POST /api/faults` with a list of rules,
each `{"stage": "rcpt", "code": 550, "text": "5.1.1 no such user", "match": "ann@", "times": 1}`
(`match` is a substring of the recipient, of the sender at MAIL, and of "recipients subject" at
DATA; `times` counts down, -1 is forever); `DELETE /api/faults` clears them. `MailSink.inject(...)` does the same in-process."""
from __future__ import annotations

import argparse
import html
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from providers.sandbox_kit import ServerThread


@dataclass
class ReplyFault:
    stage: str                 # mail | rcpt | data
    code: int                  # e.g. 451 or 550
    text: str = "injected by the sandbox sink"
    match: str = ""
    times: int = 1


class MailStore:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[dict] = []
        self.faults: list[ReplyFault] = []
        self.refused: list[dict] = []      # every injected reply given, for tests to read

    def _fault(self, stage: str, subject: str) -> str | None:
        with self.lock:
            for rule in self.faults:
                if rule.stage == stage and rule.times != 0 and rule.match in subject:
                    if rule.times > 0:
                        rule.times -= 1
                    self.refused.append({"stage": stage, "code": rule.code, "subject": subject})
                    return f"{rule.code} {rule.text}"
        return None

    def set_faults(self, rules: list[dict]) -> None:
        with self.lock:
            self.faults = [ReplyFault(**r) for r in rules]

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # aiosmtpd hook
        if reply := self._fault("mail", address):
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # aiosmtpd hook
        if reply := self._fault("rcpt", address):
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        parsed: EmailMessage = message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[assignment]
        if reply := self._fault("data", f"{','.join(envelope.rcpt_tos)} {parsed['Subject'] or ''}"):
            return reply
        text = parsed.get_body(("plain",))
        body_html = parsed.get_body(("html",))
        attachments = [part.get_filename() for part in parsed.iter_attachments()]
        with self.lock:
            self.messages.append({
                "id": len(self.messages) + 1,
                "from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                "subject": str(parsed["Subject"] or ""), "message_id": str(parsed["Message-ID"] or ""),
                "date": str(parsed["Date"] or ""),
                "text": text.get_content() if text else "", "html": body_html.get_content() if body_html else "",
                "attachments": attachments,
            })
        return "250 Message accepted for delivery"


def create_viewer(store: MailStore) -> Starlette:
    async def index(request: Request) -> Response:
        with store.lock:
            rows = list(reversed(store.messages))
        items = "".join(
            f"<tr><td><a href='/messages/{m['id']}'>{html.escape(m['subject'])}</a></td>"
            f"<td>{html.escape(', '.join(m['to']))}</td><td>{html.escape(m['date'])}</td></tr>" for m in rows)
        return HTMLResponse(f"<!doctype html><title>Sandbox mailbox</title><h1>Sandbox mailbox</h1>"
                            f"<p>{len(rows)} message(s) caught by the SMTP sink.</p>"
                            f"<table border=1 cellpadding=6><tr><th>Subject</th><th>To</th><th>Date</th></tr>{items}</table>")

    async def show(request: Request) -> Response:
        mid = int(request.path_params["mid"])
        with store.lock:
            message = next((m for m in store.messages if m["id"] == mid), None)
        if not message:
            return HTMLResponse("not found", status_code=404)
        return HTMLResponse(
            f"<!doctype html><title>{html.escape(message['subject'])}</title><p><a href='/'>all messages</a></p>"
            f"<h1>{html.escape(message['subject'])}</h1><p>To: {html.escape(', '.join(message['to']))}</p>"
            f"<h2>Text</h2><pre>{html.escape(message['text'])}</pre>"
            f"<h2>HTML</h2><iframe sandbox srcdoc=\"{html.escape(message['html'])}\" style='width:100%;height:30rem'></iframe>")

    async def api(request: Request) -> Response:
        to = request.query_params.get("to")
        with store.lock:
            rows = [m for m in store.messages if not to or to in m["to"]]
        return JSONResponse(rows)

    async def clear(request: Request) -> Response:
        with store.lock:
            store.messages.clear()
        return JSONResponse({"cleared": True})

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            store.set_faults([])
        else:
            body = await request.json()
            store.set_faults(body if isinstance(body, list) else [body])
        return JSONResponse({"rules": len(store.faults)})

    return Starlette(routes=[Route("/", index), Route("/messages/{mid:int}", show),
                             Route("/api/messages", api, methods=["GET"]),
                             Route("/api/messages", clear, methods=["DELETE"]),
                             Route("/api/faults", faults, methods=["POST", "DELETE"])])


class MailSink:
    """SMTP on one port, the viewer on another; both on loopback."""

    def __init__(self, smtp_port: int = 0, http_port: int | None = None):
        from providers.sandbox_kit import free_port

        self.store = MailStore()
        self._chosen = not smtp_port
        self.smtp_port = smtp_port or free_port()
        self.controller = Controller(self.store, hostname="127.0.0.1", port=self.smtp_port)
        self.viewer = ServerThread(create_viewer(self.store), port=http_port)

    def inject(self, stage: str, code: int, text: str = "injected by the sandbox sink", *, match: str = "",
               times: int = 1) -> None:
        """Answer `code text` at `stage` (mail, rcpt or data) for messages matching `match`; adds to
        the rules already set."""
        with self.store.lock:
            self.store.faults.append(ReplyFault(stage, code, text, match, times))

    def start(self) -> "MailSink":
        from providers.sandbox_kit import free_port

        for attempt in range(5):
            try:
                self.controller.start()
                break
            except Exception:
                # the port found free was taken before we bound it: another one, if we chose it
                if not self._chosen or attempt == 4:
                    raise
                self.smtp_port = free_port()
                self.controller = Controller(self.store, hostname="127.0.0.1", port=self.smtp_port)
        self.viewer.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
        self.viewer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smtp-port", type=int, default=8025)
    parser.add_argument("--http-port", type=int, default=8105)
    args = parser.parse_args()
    sink = MailSink(args.smtp_port, args.http_port).start()
    sink.viewer.thread.join()


if __name__ == "__main__":
    main()
