"""The sandboxes start even when the free port they were given is taken before they bind it."""
from __future__ import annotations

import socket

import pytest
from starlette.applications import Starlette

import providers.sandbox_kit as kit


@pytest.fixture
def busy(monkeypatch) -> int:
    """A port someone else listens on, which free_port offers first (then real free ports)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        offered = iter([port])
        real = kit.free_port
        monkeypatch.setattr(kit, "free_port", lambda: next(offered, None) or real())
        yield port


def test_a_sandbox_whose_port_is_taken_first_serves_on_another(busy):
    server = kit.ServerThread(Starlette()).start()
    try:
        assert server.port != busy and server.server.started
    finally:
        server.stop()


def test_the_mail_sink_whose_port_is_taken_first_listens_on_another(busy):
    from providers.mail.sink import MailSink

    sink = MailSink().start()
    try:
        assert sink.smtp_port != busy
        with socket.create_connection(("127.0.0.1", sink.smtp_port), timeout=5) as smtp:
            assert smtp.recv(100).startswith(b"220")
    finally:
        sink.stop()
