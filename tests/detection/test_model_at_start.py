"""The language model is loaded as the service starts: loaded by the first text's webhook
step, it held up every step on the event loop (calls included) for about 0.4 s."""

from fastapi.testclient import TestClient

from app.detection import language


def test_the_service_loads_the_language_model_before_the_first_text(app, model_loads):
    with TestClient(app):
        assert len(model_loads) == 1  # started: loaded, and no text has come yet
        language.detect_language("Сәлеметсіз бе, маған көмек керек", "KZ")
    assert len(model_loads) == 1  # the text found it loaded
