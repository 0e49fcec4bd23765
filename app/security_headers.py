"""Headers on every response, whatever answers it (API, console, webhooks, errors).

``X-Frame-Options: DENY`` always: no page of the service belongs in a frame (the console's
CSP says ``frame-ancestors 'none'`` too, for browsers that read only that). Under an https
public URL, ``Strict-Transport-Security`` makes browsers use https for a year, so the
first request of a session cannot be downgraded to http. A plain ASGI middleware, so
streamed answers (the live queue's events) stream on.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = b"max-age=31536000; includeSubDomains"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.headers = [(b"x-frame-options", b"DENY")]
        if https:
            self.headers.append((b"strict-transport-security", HSTS))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [h for h in self.headers if h[0] not in present]
                message["headers"] = [*message.get("headers", []), *added]
            await send(message)

        await self.app(scope, receive, send_with_headers)
