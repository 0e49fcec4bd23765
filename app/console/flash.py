"""Short messages after a form: a code in the query string, the text from the catalog.

Post/Redirect/Get carries only ``?done=<code>`` or ``?error=<code>`` (and, after a note,
its id): never anything the user typed, so nothing typed ends up in logs or history.
An unknown code shows nothing.
"""

from urllib.parse import urlencode

from babel.support import NullTranslations
from fastapi import Request
from fastapi.responses import RedirectResponse

from app.i18n import N_

DONE: dict[str, str] = {
    "claimed": N_("You claimed the case."),
    "released": N_("You released the case; it is back in the queue."),
    "screening": N_("Screening saved."),
    "consent": N_("Reporting consent saved."),
    "note": N_("Note added."),
    "reply": N_("Reply queued; it will be sent by SMS."),
    "referred": N_("Case referred; it is now in the other organisation's queue."),
    "closed": N_("Case closed."),
    "user": N_("User created."),
    "user-deactivated": N_("The user is deactivated and signed out everywhere."),
    "user-reactivated": N_("The user is active again and can sign in."),
    "user-password": N_("Password reset: the user must choose their own at the next sign-in."),
    "user-role": N_("Role changed."),
    "user-two-factor": N_("Two-factor login is reset: the user is signed out and sets it up "
                          "again at the next sign-in."),
    "password": N_("Your password is changed."),
    "blocked": N_("The caller is blocked."),
    "unblocked": N_("The block is lifted."),
    "logout": N_("You are signed out."),
    "assigned": N_("The case is now with your colleague."),
    "accepted": N_("Referral accepted: the case is in your queue."),
    "declined": N_("Referral declined: the case went back to the organisation that "
                   "referred it."),
    "calling": N_("Your phone will ring now. Answer it and press 1 to call the caller; "
                  "they will see the hotline's number, not yours."),
    "callback-done": N_("Call-back marked done; the number is erased."),
    "duty-on": N_("You are on duty."),
    "duty-off": N_("You are off duty."),
    "2fa-off": N_("Two-factor login is off."),
    "organisation-created": N_("The organisation is in the directory."),
    "organisation-saved": N_("Saved: calls are routed by the new details from now on."),
}

ERRORS: dict[str, str] = {
    "login-expired": N_("The sign-in took too long. Enter your username and password again."),
    "2fa-code": N_("That code is wrong or was already used. Enter the code your app shows "
                   "now."),
    "2fa-on": N_("Two-factor login is already on."),
    "2fa-required": N_("Two-factor login is required for you and cannot be turned off."),
    "taken": N_("Another operator has claimed this case."),
    "claim-first": N_("Claim the case first (your claim may have lapsed)."),
    "not-open": N_("This case is not open for that."),
    "same-organisation": N_("The case is already with this organisation."),
    "queue-empty": N_("The queue is empty."),
    "empty": N_("Nothing was written: the text is empty."),
    "too-long": N_("The text is too long."),
    "screening": N_("Screening not saved: check the country codes (two letters, e.g. KZ)."),
    "organisation": N_("Choose an organisation to refer to."),
    "service": N_("Choose the service the case is referred for."),
    "no-number": N_("No reply possible: the caller erased their number or it was deleted."),
    "stopped": N_("No reply possible: the caller texted STOP."),
    "colleague": N_("Choose an active colleague of your organisation."),
    "no-referral": N_("There is no referral waiting for an answer."),
    "case-closed": N_("The case is closed."),
    "no-duty-phone": N_("Add your own phone to your duty profile first: the hotline rings "
                        "it, then the caller."),
    "calls-off": N_("Outbound calls are not configured."),
    "callback-gone": N_("This call-back is done or its number was erased."),
    "call-failed": N_("Twilio refused the call; try again in a moment."),
    "duty-phone": N_("Not saved: give your phone with + and the country code, "
                     "e.g. +77010000000."),
    "duty-no-phone": N_("Give the phone you can be reached on while on duty."),
}



def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a plural pair for extraction (``-k Nn_:1,2``) without translating it yet."""
    return singular, plural


# What note scrubbing removed, counted: "removed: 1 phone number".
REMOVED_KINDS: dict[str, tuple[str, str]] = {
    "phone": Nn_("%(num)d phone number", "%(num)d phone numbers"),
    "email": Nn_("%(num)d e-mail address", "%(num)d e-mail addresses"),
    "document": Nn_("%(num)d document number", "%(num)d document numbers"),
}


def redirect(path: str, **codes: str) -> RedirectResponse:
    """303 to a console page, with only fixed codes and identifiers in the query."""
    query = urlencode({key: value for key, value in codes.items() if value})
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)


def messages(request: Request, translations: NullTranslations) -> list[tuple[str, str]]:
    """The (kind, text) flashes named by this request's query string."""
    found = []
    for kind, table in (("done", DONE), ("error", ERRORS)):
        code = request.query_params.get(kind)
        if code in table:
            found.append((kind, translations.gettext(table[code])))
    return found


def describe_removed(counts: dict[str, int], translations: NullTranslations) -> str:
    """"removed: 1 phone number, 2 e-mail addresses", or "" if nothing was removed."""
    parts = [translations.ngettext(*REMOVED_KINDS[kind], counts[kind]) % {"num": counts[kind]}
             for kind in REMOVED_KINDS if counts.get(kind)]
    if not parts:
        return ""
    return translations.gettext("removed: %(what)s") % {"what": ", ".join(parts)}
