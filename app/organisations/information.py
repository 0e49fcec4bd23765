"""Per-country information messages: imported from the directory file, read into the
routing snapshot, written back by the export.

A country's messages are replaced whole when the file lists the country (its languages
left out are removed), so the file is the one place that says what a caller hears.
"""

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.organisations.models import CountryInformation

# (country, language) -> the messages, in order
Messages = dict[tuple[str, str], tuple[str, ...]]


def import_information(session: Session, information: dict[str, dict[str, list[str]]],
                       replace: bool = False) -> list[str]:
    """Replace the messages of every country in ``information``; with ``replace``, also
    remove those of countries the file leaves out. Returns the countries changed."""
    stored = {country for country in session.scalars(select(CountryInformation.country))}
    removed = sorted(stored - set(information)) if replace else []
    changed = sorted(set(information) | set(removed))
    if not changed:
        return []
    session.execute(delete(CountryInformation).where(CountryInformation.country.in_(changed)))
    session.flush()  # the old rows go before their replacements take the same positions
    session.add_all(CountryInformation(country=country, language=language, position=position,
                                       text=text)
                    for country, by_language in information.items()
                    for language, texts in by_language.items()
                    for position, text in enumerate(texts))
    session.flush()
    return changed


def load(session: Session) -> Messages:
    rows = session.scalars(select(CountryInformation).order_by(
        CountryInformation.country, CountryInformation.language, CountryInformation.position))
    messages: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        messages.setdefault((row.country, row.language), []).append(row.text)
    return {key: tuple(texts) for key, texts in messages.items()}


def as_file_section(messages: Messages) -> dict[str, dict[str, list[str]]]:
    """The ``information`` section of the directory file, countries and languages sorted."""
    section: dict[str, dict[str, list[str]]] = {}
    for (country, language), texts in sorted(messages.items()):
        section.setdefault(country, {})[language] = list(texts)
    return section
