"""How often does the SMS language detector answer right, wrong, or ask?

Runs ``app.detection.language.detect_language`` over a labelled corpus of first messages
(``bench/data/sms_corpus.tsv`` by default) and prints, per language, the share answered
in the right language, in a wrong one, and with the language menu (no language). Targets:
wrong at most 0.01 and right at least 0.90; a wrong language costs a frightened caller
more than one menu. Last line: ``right=<x> wrong=<x> menu=<x> total=<n>``.

    python bench/detection.py [--corpus PATH] [--show wrong|menu|all]

Corpus format: ``language<TAB>country<TAB>text``, ``#`` lines are comments. ``language``
is the writer's language; ``a/b`` marks a message mixing two where either answer is right
(counted under ``a``); ``menu`` a message no one could attribute, where only the menu is
right.
"""

import argparse
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from app.detection.language import detect_language

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "sms_corpus.tsv"
HELDOUT = DATA / "sms_heldout.tsv"
MENU = "menu"


@dataclass(frozen=True)
class Sample:
    accepted: tuple[str, ...]  # the languages that are right answers; () means the menu
    group: str                 # the language it is counted under, or "menu"
    country: str | None
    text: str


@dataclass(frozen=True)
class Outcome:
    sample: Sample
    detected: str | None

    @property
    def kind(self) -> str:
        """"right", "wrong" or "menu" (asked with the menu where a language was right)."""
        if self.detected is None:
            return "right" if not self.sample.accepted else "menu"
        return "right" if self.detected in self.sample.accepted else "wrong"


def load(path: Path) -> list[Sample]:
    samples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or line.startswith("language\t"):
            continue
        label, country, text = line.split("\t", 2)
        accepted = () if label == MENU else tuple(label.split("/"))
        samples.append(Sample(accepted, label.split("/")[0], country or None, text))
    return samples


def evaluate(samples: Iterable[Sample]) -> list[Outcome]:
    return [Outcome(s, detect_language(s.text, s.country).language) for s in samples]


def rates(outcomes: list[Outcome]) -> dict[str, float]:
    total = len(outcomes) or 1
    return {kind: sum(o.kind == kind for o in outcomes) / total
            for kind in ("right", "wrong", "menu")}


def by_group(outcomes: list[Outcome]) -> dict[str, list[Outcome]]:
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        groups[outcome.sample.group].append(outcome)
    return dict(sorted(groups.items()))


def report(outcomes: list[Outcome], show: str | None) -> None:
    print(f"{'language':<9}{'n':>5}{'right':>8}{'wrong':>8}{'menu':>8}")
    for group, members in by_group(outcomes).items():
        r = rates(members)
        print(f"{group:<9}{len(members):>5}{r['right']:>8.3f}{r['wrong']:>8.3f}"
              f"{r['menu']:>8.3f}")
    for outcome in outcomes:
        if show and outcome.kind != "right" and show in (outcome.kind, "all"):
            s = outcome.sample
            print(f"  {outcome.kind}: {s.group} {s.country or '-'} -> "
                  f"{outcome.detected or 'menu'}: {s.text}")
    r = rates(outcomes)
    print(f"right={r['right']:.3f} wrong={r['wrong']:.3f} menu={r['menu']:.3f} "
          f"total={len(outcomes)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--show", choices=("wrong", "menu", "all"),
                        help="also list the messages not answered right")
    args = parser.parse_args()
    report(evaluate(load(args.corpus)), args.show)


if __name__ == "__main__":
    main()
