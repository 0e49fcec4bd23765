"""Webhooks run on threads of their own: callers are answered however busy the console is."""

import threading

import anyio.to_thread
import pytest

from tests.channels.voice.calls import Caller
from tests.messaging.texting import Texter

pytestmark = pytest.mark.usefixtures("demo_directory")


def test_calls_and_texts_are_answered_while_every_console_thread_is_busy(client, settings):
    # As when coordinators' exports and operators' pages hold all of Starlette's threads.
    limiter = client.portal.call(anyio.to_thread.current_default_thread_limiter)
    borrowers = [object() for _ in range(int(limiter.total_tokens))]
    answers: dict[str, object] = {}

    def webhooks() -> None:
        caller = Caller(client, settings, "+77010000001", "KZ")
        answers["call"] = caller.call().verbs()
        answers["keys"] = caller.press("1").verbs()
        answers["text"] = Texter(client, settings, "+77010000002", "KZ").send("Сәлем, көмек")

    for borrower in borrowers:
        client.portal.call(limiter.acquire_on_behalf_of, borrower)
    try:
        assert limiter.available_tokens == 0
        worker = threading.Thread(target=webhooks, daemon=True)
        worker.start()
        worker.join(timeout=20)
        assert not worker.is_alive(), "a webhook waited for the console's threads"
    finally:
        for borrower in borrowers:
            client.portal.call(limiter.release_on_behalf_of, borrower)
    assert "Gather" in answers["call"] and "Gather" in answers["keys"]
    assert answers["text"]
