"""Reading an Update: the chat, the text or caption, whether something is attached and the
app's language; nothing about who the person is."""

import dataclasses
import json

import pytest

from app.channels.telegram import updates


def message(**fields: object) -> bytes:
    body = {"message_id": 1, "date": 0,
            "chat": {"id": 42, "type": "private", "first_name": "Gulnara", "username": "g"},
            "from": {"id": 42, "is_bot": False, "first_name": "Gulnara", "last_name": "K",
                     "username": "g", "language_code": "ru"}} | fields
    return json.dumps({"update_id": 9, "message": body}).encode()


def test_a_shared_contact_is_an_attachment_and_its_phone_number_is_not_read():
    parsed = updates.parse(message(contact={"phone_number": "+77010000998",
                                            "first_name": "Gulnara"}))
    assert parsed == updates.Update(9, updates.PrivateMessage(42, "", 1, "ru"))
    kept = json.dumps(dataclasses.asdict(parsed))
    assert "77010000998" not in kept and "Gulnara" not in kept


def test_a_caption_is_what_they_wrote_with_a_picture():
    parsed = updates.parse(message(photo=[{"file_id": "x"}], caption="помогите"))
    assert parsed.message == updates.PrivateMessage(42, "помогите", 1, "ru")


@pytest.mark.parametrize(("code", "hint"), [
    ("ru", "ru"), ("pt-br", "pt"), ("KY", "ky"), ("", None), ("x" * 36, None), ("ру", None),
    (7, None)])
def test_the_apps_language_is_its_primary_subtag(code, hint):
    parsed = updates.parse(message(text="?", **{"from": {"id": 42, "is_bot": False,
                                                         "language_code": code}}))
    assert parsed.message is not None and parsed.message.language_code == hint


@pytest.mark.parametrize(("text", "start"), [
    ("/start", True), ("/START", True), ("/start@hotline_bot", True),
    ("/start kz-poster\nsecond line", True), ("/starting", False), ("start", False),
    ("please /start", False)])
def test_the_start_command_is_read_as_opting_in_with_nothing_written(text, start):
    parsed = updates.parse(message(text=text)).message
    assert parsed is not None and parsed.start is start
    assert parsed.text == ("" if start else text)
