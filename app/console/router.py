"""The operators' web console at ``/console``: server-rendered pages and plain forms.

No external assets, so it works on a phone on a slow connection: pages are small, the
style sheet and the one script are cached, and every page works without the script (it
only makes the queue live: app.console.live).
"""

from fastapi import APIRouter

from app.console import (
    admin,
    callbacks,
    casetools,
    casework,
    directory,
    duty,
    live,
    login,
    queue,
    stats,
    two_factor,
    users,
)

router = APIRouter()
for part in (login.router, two_factor.router, live.router, queue.router, duty.router,
             casework.router,
             callbacks.router, casetools.router, admin.router, users.router,
             directory.router,
             stats.router):
    router.include_router(part, prefix="/console", include_in_schema=False)
