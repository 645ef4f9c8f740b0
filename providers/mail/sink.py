"""An SMTP sink for dev and tests: aiosmtpd stores every message; a small web page shows them
(`/`), and `/api/messages` returns them as JSON. Run: `python -m providers.mail.sink`."""
from __future__ import annotations

import argparse
import html
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from providers.sandbox_kit import ServerThread


class MailStore:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[dict] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        parsed: EmailMessage = message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[assignment]
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

    return Starlette(routes=[Route("/", index), Route("/messages/{mid:int}", show),
                             Route("/api/messages", api, methods=["GET"]),
                             Route("/api/messages", clear, methods=["DELETE"])])


class MailSink:
    """SMTP on one port, the viewer on another; both on loopback."""

    def __init__(self, smtp_port: int = 0, http_port: int | None = None):
        from providers.sandbox_kit import free_port

        self.store = MailStore()
        self.smtp_port = smtp_port or free_port()
        self.controller = Controller(self.store, hostname="127.0.0.1", port=self.smtp_port)
        self.viewer = ServerThread(create_viewer(self.store), port=http_port)

    def start(self) -> "MailSink":
        self.controller.start()
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
