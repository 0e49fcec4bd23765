"""SMS language detection as people really type, measured on the labelled corpus.

bench/data/sms_corpus.tsv holds first messages written for this purpose in the twelve
languages, with the habits of the region's phones: no Kazakh, Kyrgyz, Tajik, Uzbek,
Turkmen or Azerbaijani letters, Kazakh's 2021 Latin alphabet, Russian, Tajik and Persian
in Latin letters, mixed Russian, one-word messages. A wrong language is worse than the
language menu, so the wrong share has the tighter bound.
"""

import pytest

from app.countries import LIKELY_LANGUAGES
from app.detection.language import detect_language
from bench.detection import CORPUS, HELDOUT, evaluate, load, rates

COUNTRIES = [None, *LIKELY_LANGUAGES, "GB", "DE"]


@pytest.mark.parametrize("path", [CORPUS, HELDOUT], ids=["corpus", "held-out"])
def test_corpus_is_big_enough_and_covers_every_language(path):
    samples = load(path)
    minimum = 300 if path == CORPUS else 60
    assert len(samples) >= minimum
    assert {s.group for s in samples} >= set(LIKELY_LANGUAGES["KZ"]) | {
        "ky", "tg", "tk", "prs", "ps", "fa", "az", "tr", "en", "menu"}


def test_rarely_wrong_and_mostly_right():
    # The held-out set is only measured (docs/calls-and-messages.md), never a target here:
    # a bound on it would soon be tuned to, as the corpus was.
    outcomes = evaluate(load(CORPUS))
    wrong = [o for o in outcomes if o.kind == "wrong"]
    shares = rates(outcomes)
    assert shares["wrong"] <= 0.01, [(o.sample.text, o.detected) for o in wrong]
    assert shares["right"] >= 0.90


# One line per habit, a few examples each: (text, the number's country, language).
HABITS = {
    "kazakh-on-a-russian-keyboard": [
        ("Кызымды алдап шетелге алып кетти", "KZ", "kk"),
        ("Кожайын паспортымды бермейди", "KZ", "kk"),
        ("Акша толемейди, уш ай болды", "KZ", "kk"),
        ("Мен коркып журмин, кайда барамын", "KZ", "kk"),
    ],
    "kazakh-2021-latin": [
        ("Sälemetsız be, mağan kömek kerek", "KZ", "kk"),
        ("Üige qaitqym keledı, kömektesıñızder", "KZ", "kk"),
        ("Men Reseide jūmys ısteimın", "RU", "kk"),
    ],
    "kyrgyz-without-letters": [
        ("Кожоюн документтеримди бербей жатат", "KG", "ky"),
        ("Бизди камап коюшту, сыртка чыгарбайт", "RU", "ky"),
        ("Salamatsyzby, maga jardam kerek", "KG", "ky"),
    ],
    "tajik-without-letters-and-in-latin": [
        ("Моро дар як хона махкам карданд", "RU", "tg"),
        ("Ман метарсам, ба ман занг занед", "RU", "tg"),
        ("Man dar Maskav kor mekunam, pulamro namedihand", "RU", "tg"),
    ],
    "uzbek-with-and-without-apostrophes": [
        ("Uyga qaytmoqchiman, lekin pulim yo'q", "RU", "uz"),
        ("Uyga qaytmoqchiman pulim yoq", "RU", "uz"),
        ("Мен Алматида ишлаяпман, ойлик беришмаяпти", "KZ", "uz"),
    ],
    "turkmen-without-letters": [
        ("Oye gaytmak isleyarin, yone pulum yok", "TR", "tk"),
        ("Hojayyn pasportymy bermeyar", "TR", "tk"),
    ],
    "azerbaijani-without-letters": [
        ("Meni evden buraxmirlar, xahis edirem komek edin", "RU", "az"),
        ("Men Moskvada isleyirem, senedlerimi aliblar", "RU", "az"),
    ],
    "persian-and-dari-in-latin": [
        ("man too turkiye hastam, karfarma hoghoogham ro nemide", "TR", "fa"),
        ("mikham bargardam khoone vali pool nadaram", "IR", "fa"),
        ("salam, ma dar Iran astom, komak zarurat darom", "AF", "prs"),
    ],
    "russian-in-translit": [
        ("pomogite", "RU", "ru"),
        ("u menya zabrali pasport chto delat", None, "ru"),
        ("ya hochu domoy no net deneg", "DE", "ru"),
    ],
    "very-short": [
        ("помогите", "RU", "ru"),
        ("help", "GB", "en"),
        ("спасибо", "RU", "ru"),
        ("yardım", "TR", "tr"),
        ("مرسته", "AF", "ps"),
    ],
    "russian-mixed-in": [
        ("Маган помощь керек, документтеримди алып койды", "KZ", "kk"),
        ("Ман дар Москва кор мекунам, работодатель пул намедихад", "RU", "tg"),
        ("Мага жардам керек, работодатель акча бербей жатат", "RU", "ky"),
    ],
    "pashto-on-a-persian-keyboard": [
        ("زما پاسپورت یی راچخه اخیستی دی", "AF", "ps"),
        ("زه په ایران کی یم، مرسته غوارم", "IR", "ps"),
    ],
}


@pytest.mark.parametrize(("text", "country", "expected"), [
    pytest.param(*example, id=f"{habit}-{n}")
    for habit, examples in HABITS.items() for n, example in enumerate(examples)])
def test_habits(text, country, expected):
    detection = detect_language(text, country)
    assert detection.language == expected, detection.reason


@pytest.mark.parametrize(("text", "country"), [
    pytest.param("salam", None, id="salam"),
    pytest.param("Салам", None, id="salam-cyrillic"),
    pytest.param("да", "RU", id="da"),
    pytest.param("ok", None, id="ok"),
    pytest.param("Salom", "RU", id="salom-from-russia"),
])
def test_a_word_anyone_could_write_gets_the_menu(text, country):
    assert detect_language(text, country).language is None


# The three answers in the wrong language that issue 19 reported.
@pytest.mark.parametrize(("text", "country", "expected"), [
    pytest.param("Салеметсиз бе, маган комек керек, паспортымды алып койды", "KZ", "kk",
                 id="kazakh-plain-from-kazakhstan-was-kyrgyz"),
    pytest.param("Бизди бир уйге камап койды, шыга алмаймыз", "KZ", "kk",
                 id="kazakh-plain-locked-in-was-kyrgyz"),
    pytest.param("Qyzymdy aldap şetelge alyp kettı", "KZ", "kk",
                 id="kazakh-latin-was-turkish"),
    pytest.param("Mağan kömek kerek, qūjattarymdy alyp qoidy", "KZ", "kk",
                 id="kazakh-latin-was-turkmen"),
    pytest.param("help", "GB", "en", id="help-from-the-uk-was-russian"),
])
def test_issue_19_regressions(text, country, expected):
    assert detect_language(text, country).language == expected


@pytest.mark.parametrize(("text", "language", "countries"), [
    pytest.param("Мен Алматыда иштейм, кожоюн паспортумду бербейт", "ky", ("KZ", "KG", "RU"),
                 id="kyrgyz-from-kazakh-number"),
    pytest.param("Мен Бишкекте журмин, кожайын акша бермейди", "kk", ("KG", "KZ"),
                 id="kazakh-from-kyrgyz-number"),
    pytest.param("Ман дар Тошкент кор мекунам, пул намедиханд", "tg", ("UZ", "TJ"),
                 id="tajik-from-uzbek-number"),
    pytest.param("Salam, mene komek lazimdir", "az", ("IR", "TM", "AZ"),
                 id="azerbaijani-from-iranian-number"),
    pytest.param("salam, komak mikham", "fa", ("AF", "TJ", "IR"),
                 id="persian-from-afghan-number"),
])
def test_country_is_a_prior_never_a_verdict(text, language, countries):
    for country in countries:
        assert detect_language(text, country).language == language, country


def test_text_that_tells_its_language_is_answered_in_it_from_any_number():
    """The number's country only settles what the text leaves open: whatever the text says
    on its own, no country turns into another language. Except Persian without Dari words,
    which is Dari from Afghanistan: the two differ in words, not letters."""
    for sample in load(CORPUS):
        alone = detect_language(sample.text, None).language
        if alone is None:
            continue
        for country in COUNTRIES:
            allowed = {alone, "prs"} if alone == "fa" else {alone}
            assert detect_language(sample.text, country).language in allowed, (
                sample.text, country)
