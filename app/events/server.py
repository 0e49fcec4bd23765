"""uvicorn's server, ending the open event streams when it shuts down.

uvicorn waits for every open connection to finish before it shuts the app down, and it
gives a streaming response no sign of the shutdown: with a console page open, the server
would never stop. This server closes the app's hub first, so every stream ends cleanly
(the browser reconnects to whichever process is serving next) and uvicorn can finish.
``hotline serve`` and the tests' live servers use it.
"""

from typing import Any

import uvicorn

from app.events.hub import Hub


class Server(uvicorn.Server):
    async def shutdown(self, sockets: Any = None) -> None:
        hub = hub_of(self.config.loaded_app) if self.config.loaded else None
        if hub is not None:
            hub.close()
        await super().shutdown(sockets)


def hub_of(app: object) -> Hub | None:
    """The hub of the app inside uvicorn's middleware wrappers (each keeps ``.app``)."""
    for _ in range(10):
        hub = getattr(getattr(app, "state", None), "events", None)
        if isinstance(hub, Hub):
            return hub
        app = getattr(app, "app", None)
        if app is None:
            return None
    return None
