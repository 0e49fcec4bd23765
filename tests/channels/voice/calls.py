"""A scripted caller: follows the TwiML the hotline returns, pressing keys or staying silent."""

from dataclasses import dataclass, field

from tests.twilio import Twiml, new_call_sid, post, twiml


@dataclass
class Caller:
    client: object
    settings: object
    number: str
    from_country: str = ""
    sid: str = field(default_factory=new_call_sid)
    last: Twiml | None = None

    def params(self, **extra: str) -> dict[str, str]:
        return {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "From": self.number,
                "To": "+77270009999", "FromCountry": self.from_country,
                "CallStatus": "in-progress", "Direction": "inbound"} | extra

    def call(self) -> Twiml:
        self.last = twiml(post(self.client, self.settings, "/twilio/voice",
                               self.params(CallStatus="ringing")))
        return self.last

    def press(self, digits: str) -> Twiml:
        response = post(self.client, self.settings, self.last.gather_action(),
                        self.params(Digits=digits))
        self.last = twiml(response)
        return self.last

    def silence(self) -> Twiml:
        redirect = self.last.find("Redirect")
        assert redirect is not None, self.last.text
        self.last = twiml(post(self.client, self.settings, redirect.text, self.params()))
        return self.last

    def dial_ends(self, status: str) -> Twiml:
        """Twilio calls the <Dial> action when the responder leg ends."""
        action = self.last.find("Dial").get("action")
        self.last = twiml(post(self.client, self.settings, action,
                               self.params(DialCallStatus=status)))
        return self.last

    def responder_whisper(self) -> Twiml:
        url = self.last.find("Dial/Number").get("url")
        return twiml(post(self.client, self.settings, url,
                          {"CallSid": new_call_sid(), "ParentCallSid": self.sid,
                           "From": "+77270009999", "To": self.last.dialled_numbers()[0],
                           "CallStatus": "in-progress"}))

    def responder_presses(self, whisper: Twiml, digits: str) -> Twiml:
        return twiml(post(self.client, self.settings, whisper.gather_action(),
                          {"CallSid": new_call_sid(), "ParentCallSid": self.sid,
                           "Digits": digits}))

    def status(self, status: str, duration: int) -> None:
        response = post(self.client, self.settings, "/twilio/voice/status",
                        self.params(CallStatus=status, CallDuration=str(duration)))
        assert response.status_code == 200


def spoken(element) -> list[str]:
    """What the caller hears inside an element: Say texts and Play file names."""
    heard = []
    for child in element:
        if child.tag == "Say":
            heard.append(child.text)
        elif child.tag == "Play":
            heard.append(child.text.rsplit("/", 2)[-2] + "/" + child.text.rsplit("/", 1)[-1])
    return heard


def expected(language: str, key: str, **params: str) -> str:
    """What spoken() shows for a prompt: the Say text, or the rendered file played."""
    from app.channels.voice.audio import prompt_text
    from app.channels.voice.prompts import audio_name
    from app.channels.voice.voices import VOICES, Mode

    if VOICES[language].mode is Mode.PLAY:
        return f"{language}/{audio_name(key, params)}.espeak.wav"
    return prompt_text(language, key, params)
