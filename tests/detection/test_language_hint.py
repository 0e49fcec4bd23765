"""A messenger's app language as a hint: it breaks a tie before the country does, but
never overrules a text that is clear by itself."""

from app.detection.language import detect_language


def test_a_clear_text_keeps_its_language_whatever_the_app_is_set_to():
    text = "Здравствуйте, мне нужна помощь, у меня забрали паспорт"
    assert detect_language(text, "KZ", hint="uz").language == "ru"
    assert detect_language(text, None, hint="en").language == "ru"


def test_a_message_too_short_to_tell_is_read_in_the_app_language():
    assert detect_language("ok", "KZ").language is None
    detection = detect_language("ok", "KZ", hint="kk")
    assert detection.language == "kk" and detection.candidates[0] == "kk"


def test_an_unknown_hint_changes_nothing():
    text = "Салом, ба ман кӯмак лозим аст"
    assert detect_language(text, "TJ", hint="xx") == detect_language(text, "TJ")


def test_the_app_language_breaks_a_tie_before_the_sender_s_country():
    # "Salom" is Uzbek and Tajik alike: the country picks one, the app's language first.
    assert detect_language("Salom", "UZ").language == "uz"
    assert detect_language("Salom", "UZ", hint="tg").language == "tg"
    assert detect_language("Salom", "TJ", hint="uz").language == "uz"
    # A hint the text cannot be in (nobody types Pashto in Latin letters) is no
    # tie-breaker: the country decides.
    assert detect_language("Salom", "UZ", hint="ps").language == "uz"
