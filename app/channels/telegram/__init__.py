"""Telegram: a person writes to the hotline's bot; the same text intake as SMS answers.

``webhook`` takes Telegram's updates, ``bot_api`` sends through the Bot API (the outbox's
sender), ``updates`` reads an update, ``setup`` and ``simulate`` are ``hotline``
commands, and ``adapter`` registers it all in ``app.channels``.
"""
