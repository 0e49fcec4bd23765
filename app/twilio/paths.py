"""Where Twilio's webhooks arrive: the channels' routers mount these, and ``hotline twilio
setup`` (``app.twilio.setup``) points each national line's number at them."""

VOICE = "/twilio/voice"  # a call's steps (``app.channels.voice.voice``)
VOICE_STATUS = VOICE + "/status"
CALLBACK = "/twilio/callback"  # a masked call-back's legs (``app.channels.voice.callback``)
SMS = "/twilio/sms"  # an SMS or WhatsApp message (``app.channels.sms.webhook``)
SMS_STATUS = SMS + "/status"  # the delivery of one we sent
