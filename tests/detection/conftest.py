import pytest

from app.detection import language


@pytest.fixture
def model_loads(monkeypatch):
    """Each load of the language model, counted, starting from none loaded; the caches are
    emptied again afterwards, so later tests load the real model as usual."""
    loads = []
    original = language.LanguageIdentifier.from_model_file

    def counting(*args, **kwargs):
        loads.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(language.LanguageIdentifier, "from_model_file", counting)
    language._model.cache_clear()
    language._identifier.cache_clear()
    yield loads
    language._model.cache_clear()
    language._identifier.cache_clear()
