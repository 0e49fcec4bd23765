"""What any provider's sending raises when a message or call did not go out.

Channel-neutral and below every channel and domain: the Twilio REST client
(``app.twilio.rest``), a messenger's bot client and the outbox (``app.messaging.outbox``)
all speak it.
"""


class SendError(Exception):
    """The provider did not take the message (or call).

    ``code`` is the provider's own error code, kept on the outbox row (no address or text
    in it); ``retryable`` says whether trying later can help; ``opted_out`` that the person
    told the provider to stop (Twilio's 21610, a Telegram bot blocked by the user): their
    conversation is marked opted out and nothing more is sent to them.
    """

    def __init__(self, code: str, *, retryable: bool, opted_out: bool = False) -> None:
        super().__init__(code)
        self.code = code
        self.retryable = retryable
        self.opted_out = opted_out
