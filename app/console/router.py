"""The operators' web console at ``/console``: server-rendered pages and plain forms.

No JavaScript and no external assets, so it works on a phone on a slow connection:
pages are small, the one style sheet is cached, and the queue never refreshes itself.
"""

from fastapi import APIRouter

from app.console import admin, casework, login, queue, stats

router = APIRouter()
for part in (login.router, queue.router, casework.router, admin.router, stats.router):
    router.include_router(part, prefix="/console", include_in_schema=False)
