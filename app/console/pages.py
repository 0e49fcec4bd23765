"""Rendering console pages: one Jinja2 environment, per-request language, flash messages.

The environment is built once. Translations are looked up through the render context
(``translations``), never through global state, so concurrent requests in different
languages cannot see each other's. Autoescaping is on for every .html template.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from babel.support import NullTranslations
from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from app import i18n
from app.cases import screening_labels
from app.console import flash, language
from app.console.screening_form import Option
from app.console.terms import term
from app.deps import settings_of
from app.routing.needs import NEED_LABELS, Need
from app.users.deps import secure_cookies
from app.users.models import Role

_R = TypeVar("_R", bound=Response)

TEMPLATES_DIR = Path(__file__).with_name("templates")
# No frames, no inline script, no third-party anything. The one script (console.js, the
# live queue) comes from the console itself and talks only to it (connect-src: the event
# stream and the queue rows); every page works without it.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                               "script-src 'self'; connect-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # case data must not stay in a shared phone's cache
}


@dataclass(frozen=True)
class Viewer:
    """Who is signed in, as the page header shows it (plain values, safe after rollback)."""

    username: str
    role: Role
    csrf_token: str
    home: str  # the page this role starts on
    timezone: str = "UTC"  # the organisation's; UTC (labelled) for users without one


@pass_context
def _gettext(context: Context, message: str) -> str:
    translations: NullTranslations = context["translations"]
    return translations.gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, number: int) -> str:
    translations: NullTranslations = context["translations"]
    return translations.ngettext(singular, plural, number)


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR),
                      autoescape=select_autoescape(), extensions=["jinja2.ext.i18n"],
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    return env


ENVIRONMENT = _environment()


def helpers(ui: str, translations: NullTranslations, zone: str = "UTC"
            ) -> dict[str, Callable[..., str]]:
    """Formatting functions for templates, bound to this request's language and the
    viewer's time zone."""

    def label(member: StrEnum) -> str:
        return translations.gettext(screening_labels.label(member))

    def need(value: Need | None) -> str:
        return i18n.gettext(ui, NEED_LABELS[value]) if value else "—"

    def option(choice: Option) -> str:
        if choice.member is not None:
            return label(choice.member)
        if choice.country is not None:
            return language.country_name(choice.country, ui)
        return translations.gettext(choice.text or "")

    return {"label": label, "need": need, "option": option,
            "term": lambda member: translations.gettext(term(member)),
            "language_name": lambda code: language.language_name(code, ui),
            "country": lambda code: language.country_name(code, ui),
            "when": lambda moment: language.when(moment, zone, ui),
            "unscrubbed": lambda text: language.translate_markers(text, translations),
            "ref": language.isolated,
            "removed": lambda counts: flash.describe_removed(counts, translations),
            "t": translations.gettext}


def render(request: Request, template: str, *, viewer: Viewer | None = None,
           status_code: int = 200, **context: Any) -> HTMLResponse:
    ui = language.language_of(request)
    translations = language.translations(ui)
    html = ENVIRONMENT.get_template(template).render(
        context, translations=translations, lang=ui, viewer=viewer, path=request.url.path,
        html_lang=language.html_lang(ui), direction=language.direction(ui),
        languages=language.LANGUAGE_MENU, flashes=flash.messages(request, translations),
        **helpers(ui, translations, viewer.timezone if viewer else "UTC"))
    response = HTMLResponse(html, status_code=status_code)
    chosen = language.chosen_in_query(request)
    if chosen:
        response.set_cookie(language.LANG_COOKIE, chosen, max_age=language.LANG_COOKIE_SECONDS,
                            path="/console", httponly=True, samesite="lax",
                            secure=secure_cookies(settings_of(request)))
    return harden(response)


def harden(response: _R) -> _R:
    response.headers.update(SECURITY_HEADERS)
    return response
