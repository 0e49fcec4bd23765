"""The console's one script, ``console.js``: the live queue (app.events).

Progressive enhancement: every page works without it. With it, the queue page swaps in
fresh rows (``GET /console/queue/rows``) on every event of the organisation, and the case
page says when something happened to the case on screen.
"""

from pathlib import Path

from fastapi import APIRouter, Response

router = APIRouter()
SCRIPT = (Path(__file__).with_name("static") / "console.js").read_bytes()


@router.get("/console.js")
def script() -> Response:
    # Cached for a day, like the style sheet: one download per phone, not one per page.
    return Response(SCRIPT, media_type="text/javascript",
                    headers={"Cache-Control": "public, max-age=86400",
                             "X-Content-Type-Options": "nosniff"})
