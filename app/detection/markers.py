"""Everyday words and endings that tell close languages apart as people really type them.

Phones often lack a language's own letters: Kazakh, Kyrgyz, Tajik and Uzbek are typed on
Russian keyboards, Turkmen and Azerbaijani without ň ý ə, Russian, Tajik and Persian in
Latin letters. The statistical library then confuses neighbours (plain Kazakh reads as
Kyrgyz, plain Azerbaijani as Turkish). What stays are words and endings: Kazakh маған,
Kyrgyz мага, Uzbek менга; Turkish -iyor, Azerbaijani -irəm, Turkmen -ýär. Words are
compared with every special letter folded to the plain one a keyboard without it gives
(қ -> к, ə -> e), so a marker matches whether or not the writer had the letter.

A word that two languages share counts for both: only a lead decides. Lists hold common
words of first messages (greetings, help, passport, money, home, fear) and grammar that
any sentence carries; they never need every word of a language.
"""

# ruff: noqa: RUF003 - the comments quote Cyrillic and Turkic words.

import re
from collections import Counter
from collections.abc import Iterable, Mapping

# Special letters -> what a keyboard without them gives. Cyrillic: Kazakh, Kyrgyz, Tajik,
# Uzbek letters to Russian ones (ё too, which many type as е). Latin: every diacritic off.
CYRILLIC_FOLD = str.maketrans("әғқңөұүіһӣӯҳҷўё", "агкнооуиxиухчуе".replace("x", "х"))
LATIN_FOLD = str.maketrans("ıiğşçöüäəñňýžūâîû", "iigscouaennyzuaiu")
# Dari and Pashto typed on a Persian keyboard: the Arabic forms become Persian ones, and
# Pashto's own letters the nearest Persian letter.
ARABIC_FOLD = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ټ": "ت", "ډ": "د", "ړ": "ر",
                             "ږ": "ژ", "ښ": "ش", "ګ": "گ", "ڼ": "ن", "ې": "ی", "ۍ": "ی",
                             "ځ": "ج", "څ": "چ", "ئ": "ی"})
STEM = 5  # markers this long also match as the start of a word (паспортымды, ресейдемин)


def _words(fold: Mapping[int, str | int | None], text: str) -> frozenset[str]:
    return frozenset(text.lower().translate(fold).split())


def _cyrillic(text: str) -> frozenset[str]:
    return _words(CYRILLIC_FOLD, text)


def _latin(text: str) -> frozenset[str]:
    return _words(LATIN_FOLD, text.replace("'", "").replace("ʻ", "").replace("’", ""))


def _arabic(text: str) -> frozenset[str]:
    return _words(ARABIC_FOLD, text)


# Words typed in Cyrillic, written as the language writes them (folded when compared).
CYRILLIC_WORDS: dict[str, frozenset[str]] = {
    "ru": _cyrillic(
        "помогите помощь помощи пожалуйста спасибо здравствуйте привет мне меня мой моя "
        "мою нас нам вас вам ваш что как где куда когда если или уже еще это они она "
        "нужна нужно нужен хочу могу можно нет забрали отобрали документы работа работу "
        "работодатель зарплату деньги денег домой билет срочно алло держат платят платит "
        "обманули позвонить позвоните боюсь подруга подруги дочь брат сестра связь "
        "говорят должна квартире выпускают отпускают хозяин хозяйка обратиться подскажите "
        "вернуться пишу пропал выключен угрожает заперли увезли пожалуйста"),
    "kk": _cyrillic(
        "сәлеметсіз сәлем маған саған оған көмек көмектесіңіздер және үшін емес ресей "
        "жұмыс құжат жүрмін жүрміз өтініш рахмет түсіндім түсінбедім келеді шетел шыға "
        "бермейді төлемейді істеймін барамын алмаймын алмаймыз қожайын бірақ қалай осы "
        "үш жалақы үйге үйде кейін болды қойды хабарласыңыз нөмірі өшірулі мәскеу жатыр "
        "бауырым бізге мына"),
    "ky": _cyrillic(
        "саламатсызбы саламатсыз мага сага жардам эмес эмне орусия жумуш жатышат коюшту "
        "кетишти бербей бербейт иштейм барам кылам кылсам болот бирок ушул кожоюн үйгө "
        "үйдө эжем түшүндүм досумдун чалып кантип кийин болду койду чыгарбайт чыкпай "
        "корком үч байланыш жатат жатам акча төлөбөй"),
    "tg": _cyrillic(
        "ман аст маро моро дар барои шумо ҳастам кӯмак мекунам мекунем намедиҳад "
        "намедиҳанд гирифтанд кунед кунам хона ва рафт шуд хомӯш метарсам занг занед "
        "фаҳмидам нест надорам мехоҳам духтарам бародарам ҳуҷҷат чи кор як ёрӣ диҳед "
        "корфармо музд шиносномаи баргардам вале пули пулам наметавонем баромада маҳкам "
        "карданд нигоҳ медоранд ҳастем"),
    "uz": _cyrillic(
        "менга ёрдам керак беринг илтимос бермаяпти олиб қўйишди нима қилай ҳужжат "
        "ишлаяпман ойлик бизни алдашди юбормаяпти уйга қайтмоқчиман пулим йўқ "
        "лекин"),
}
CYRILLIC_ENDINGS: dict[str, re.Pattern[str]] = {
    "ru": re.compile(r"(ться|тся|ите|ают|яют|ого|ому)$"),
    # Kazakh 1st person -мін/-мын after a verb, and the polite request -шы/-ші.
    "kk": re.compile(r"(ймин|ймын|рмин|рмын|амын|емин|дерши|дарши|ныздаршы)$"),
    # Kyrgyz negative present -бейт/-пайт, plural past -шты/-шту and request -чы/-чи.
    "ky": re.compile(r"(бейт|байт|пейт|пайт|шту|шти|дерчи|дарчы|нузчу|изчи)$"),
    # Tajik object -ро, 3rd plural -анд, imperative -ед, negative наме-.
    "tg": re.compile(r"(\w{2,}ро|\w{3,}анд|\w{3,}ед)$|^наме\w{3,}"),
    # Uzbek present -япти/-япман, past -ишди, intention -моқчи.
    "uz": re.compile(r"(япти|япман|япмиз|ишди|шди)$|мокчи"),
}

# Words typed in Latin letters, folded to ASCII when compared.
LATIN_WORDS: dict[str, frozenset[str]] = {
    "en": _latin(
        "i me my the please help need they took not and is am are you call we have can "
        "cannot cant want go home money paid passport hello hi friend thank thanks this "
        "number where someone sorry english scared to for of get back her his she he our "
        "us food people job work working locked flat house out trouble talk now what how "
        "why who do does dont been months employer documents abroad answering"),
    "ru": _latin(
        "pomogite pomoshch pomosh pomoshi pozhaluysta pozhaluista pojaluista pojaluysta "
        "spasibo zdravstvuyte zdravstvuite privet mne menya nuzhna nujna nuzhno nujno chto "
        "kak gde uzhe uje eto oni ona moy moya nas nam vash vas zabrali otobrali dokumenty "
        "dengi deneg domoy domoi khochu hochu mogu net rabota rabotu rabotodatel zarplatu "
        "platyat platit pozvonite boyus ponyala ponyal kvartiry vypuskayut derzhat derjat "
        "delat mesyaca mesyatsa otdaet otdayut nomer stroike stroyke"),
    "tr": _latin(
        "yardım yardıma yardımcı lütfen merhaba ihtiyacım ihtiyaç beni bana benim ben "
        "param kardeşim kardeş teşekkürler nasıl yapmalıyım yapabilirim kayıp anladım "
        "arayın numarası işveren değil şimdi çok edin"),
    "az": _latin(
        "mənə mənim sənə kömək edin lazımdır edirəm xahiş istəyirəm yoxdur yox qorxuram zəng budur "
        "nömrəsi sənəd sənədlərimi alıblar aparıblar aldadıb buraxmırlar vermirlər vermir "
        "saxlayırlar işləyirəm işəgötürən qayıtmaq amma bacım bacımı qızımı xaricə"),
    "tk": _latin(
        "maňa kömek gerek ediň pasportymy puluny gyzymy aldylar gapadylar gitdiler daşary "
        "ýurda ýöne ýok sag boluň düşündim jaň şunda dostumyň hojaýyn resminamalarymy "
        "gaýtmak bilemizok moskwada"),
    "uz": _latin(
        "menga yordam kerak bering iltimos olib nima hujjat hujjatlarimni uyga pulim yo'q "
        "lekin qiling raqam raqami o'zbek shu unga ahvol ahvoldaman qayerga qaytmoqchiman "
        "tushundim bizni ish ishga salom"),
    "kk": _latin(
        "sälemetsız mağan kömek kerek jūmys qoidy koidy ısteimın tüsındım raqmet rakhmet "
        "bızdı pasportymdy qamap aqşa tölemeidı üige keledı qaitqym kömektesıñızder qūjat "
        "qūjattarymdy şetelge reseide"),
    "ky": _latin(
        "salamatsyzby maga jardam kerek ishteym ishteim akcha jatyshat koyushtu beriniz "
        "tushundum emne kylam"),
    "tg": _latin(
        "kumak mekunam namedihand namedihad lozim yori dihed shinosnomai maro khona "
        "metarsam pulamro namemonand kunam kor chi ast man dar ba hastam salom zang "
        "fahmidam"),
    "fa": _latin(
        "komak mikham mikhaham lotfan konid nemide nemidan khoone khune khane pool nadaram "
        "bargardam zang bezanid mitarsam fahmidam merci mamnoon mamnun kharej khaharam "
        "javab dige too ro karfarma gereftan pasportamo kar mikonam kasi chera koja "
        "kojast ast man dar hastam ma"),
    "prs": _latin(
        "komak astom astum zarurat darom mefamom mefamum tashakur tashakor lutfan konen "
        "metarsom bezanen giriftan gerefta qachaqbar mara mekonom mekunom paisa polis "
        "tilfon ast man dar ba ma kar"),
}
LATIN_ENDINGS: dict[str, re.Pattern[str]] = {
    "tr": re.compile(r"[iu]yor"),                                 # vermiyor, korkuyorum
    "az": re.compile(r"(irem|iram|yirem|yiram|irler|irlar|iblar|ibler)$"),  # edirəm
    "tk": re.compile(r"\w{3,}y[ae]r(in|yn|ler|lar)?$|\w{4,}y[ae]n$|mizok$|d[yi]lar$"),
    "uz": re.compile(r"(yapti|yapman|yapmiz|ishdi)$|moqchi"),   # bermayapti, qo'yishdi
    "fa": re.compile(r"^(mi|nemi)\w{3,}(am|e|an|id|and)$"),     # mikham, nemide
}
# Tajik and Kazakh in Latin letters write ы as y between consonants (pasportymy, alyp),
# which Turkish, Azerbaijani and Uzbek never do, and transliterated Russian does (vy).
Y_AS_VOWEL = re.compile(r"[bcdfghjklmnpqrstvxz]y[bcdfghjklmnpqrstvxz]")
Y_AS_VOWEL_LANGUAGES = ("tk", "kk", "ky", "ru")

# Pashto words in the letters a Persian keyboard has (with Pashto letters the script is
# decisive already); Dari words are in language.py.
PASHTO_WORDS = _arabic("زه زما زموږ موږ مرسته مننه یم لرم لرو غواړم وکړئ ووهئ راکوي "
                       "اخیستی اخیستې پکار ډېر څخه راڅخه هغه ملګري شمېره")


def counts(words: Iterable[str], markers: dict[str, frozenset[str]],
           endings: dict[str, re.Pattern[str]]) -> Counter[str]:
    """How many of the words each language's markers or endings claim."""
    found: Counter[str] = Counter()
    for word in words:
        for lang, markers_of in markers.items():
            if _matches(word, markers_of) or (lang in endings and endings[lang].search(word)):
                found[lang] += 1
    return found


def cyrillic_counts(text: str) -> Counter[str]:
    return counts(_cyrillic(text), CYRILLIC_WORDS, CYRILLIC_ENDINGS)


def latin_counts(text: str) -> Counter[str]:
    words = _latin(text)
    found = counts(words, LATIN_WORDS, LATIN_ENDINGS)
    for word in words:
        if Y_AS_VOWEL.search(word):
            found.update(Y_AS_VOWEL_LANGUAGES)
    return found


def pashto_count(text: str) -> int:
    return sum(_matches(word, PASHTO_WORDS) for word in _arabic(text))


def _matches(word: str, markers: frozenset[str]) -> bool:
    return word in markers or any(
        word.startswith(marker) for marker in markers if len(marker) >= STEM)


def best(found: Counter[str], pool: Iterable[str]) -> tuple[str, ...]:
    """The languages of ``pool`` with the most markers: one, several tied, or none."""
    scores = {lang: found[lang] for lang in pool if found[lang]}
    top = max(scores.values(), default=0)
    return tuple(lang for lang, score in scores.items() if score == top)
