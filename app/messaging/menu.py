"""The language menu by text: how to choose, in the likely languages, then the twelve
languages by their own names.

The languages are grouped by script (Cyrillic, Latin, Arabic), each group with the
instruction lines written in it, and numbered across the groups. By SMS the groups are
packed into as few segments as they can take, every message at most two: a Latin group
on its own goes in GSM-7, Cyrillic and Arabic cost UCS-2 wherever they are. Messages of
one reply may arrive in any order; the numbers mean the same in each. On WhatsApp there
are no segments, and the menu is one message.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from app.languages import LANGUAGES
from app.messaging import texts
from app.segments import segments, sms_safe

SCRIPTS: dict[str, str] = {
    "ru": "Cyrl", "kk": "Cyrl", "ky": "Cyrl", "tg": "Cyrl",
    "uz": "Latn", "tk": "Latn", "az": "Latn", "tr": "Latn", "en": "Latn",
    "prs": "Arab", "ps": "Arab", "fa": "Arab",
}
MAX_SEGMENTS = 2


@dataclass(frozen=True)
class Menu:
    order: list[str]     # the language codes by menu number, from 1
    messages: list[str]  # what is sent, in order


def language_menu(order: Sequence[str], instructed: Sequence[str], *, sms: bool) -> Menu:
    """The menu of the languages in ``order`` (most likely first), told how to choose in
    each of ``instructed``."""
    groups = _by_script(order)
    blocks, number = [], 1
    for group in groups:
        script = SCRIPTS[group[0]]
        lines = dict.fromkeys(texts.text(code, "choose_language")
                              for code in instructed if SCRIPTS[code] == script)
        items = [f"{number + i} {LANGUAGES[code].native_name}" for i, code in enumerate(group)]
        number += len(group)
        blocks.append("\n".join([*lines, *items]))
    numbered = [code for group in groups for code in group]
    return Menu(numbered, _pack(blocks) if sms else ["\n".join(blocks)])


def _by_script(order: Sequence[str]) -> list[list[str]]:
    groups: dict[str, list[str]] = {}
    for code in order:
        groups.setdefault(SCRIPTS[code], []).append(code)
    return list(groups.values())


def _pack(blocks: list[str]) -> list[str]:
    """The grouping of blocks into messages that costs the fewest segments (then the
    fewest messages), none over two. The menu's names are all Turkic or English, so its
    letters may be folded where that saves a segment."""
    best: tuple[tuple[int, int], list[str]] | None = None
    for partition in _partitions(list(range(len(blocks)))):
        messages = [sms_safe("\n".join(blocks[i] for i in part), fold_letters=True)
                    for part in partition]
        costs = [segments(message) for message in messages]
        if max(costs) > MAX_SEGMENTS:
            continue
        key = (sum(costs), len(messages))
        if best is None or key < best[0]:
            best = (key, messages)
    # A block too long even alone cannot happen with the catalog's lines (a test checks).
    return best[1] if best else [sms_safe(block, fold_letters=True) for block in blocks]


def _partitions(items: list[int]) -> Iterator[list[list[int]]]:
    """Every way to split the items into groups, each group and the groups in order."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for partition in _partitions(rest):
        yield [[first], *partition]
        for i in range(len(partition)):
            joined = [*partition[:i], [first, *partition[i]], *partition[i + 1:]]
            yield sorted(joined, key=lambda part: part[0])
