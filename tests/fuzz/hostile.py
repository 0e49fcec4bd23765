"""Hostile text for the fuzz tests: injections, odd unicode and caller IDs Twilio may send."""

from hypothesis import strategies as st

SQL_INJECTION = (
    "' OR '1'='1", "'; DROP TABLE cases; --", "\" OR 1=1 --", "1); DELETE FROM contacts; --",
    "' UNION SELECT password_hash FROM users --", "%' AND pg_sleep(5) IS NULL --",
    "Robert'); DROP TABLE conversations;--",
)
HTML_INJECTION = (
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "<svg/onload=alert(1)>",
    "]]><!--", "</Message><Redirect>https://evil.example/</Redirect>",
    "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>",
    "&amp;&lt;&#0;", "javascript:alert(1)", "{{ 7*7 }}{% raw %}", "${jndi:ldap://x.example/a}",
)
# NUL is left out: the webhooks refuse it outright (400) outside a Body, so it would hide
# what the rest of an example does; tests/fuzz/test_found_by_fuzzing.py sends it on purpose.
ODD_TEXT = (
    "", " ", "\r\n\r\n", "\x1b[31m", "\u202eevil", "\u200b\ufeff",
    "👩‍👩‍👧‍👦" * 10, "e\u0301" * 50, "%s%s%n", "{0.__class__}", "-1", "1e309", "NaN",
    "99999999999999999999999999", "²", "٣", "Ⅻ", "ß" * 300, "\\", "../../etc/passwd",
)
# What Twilio puts in From: withheld IDs, client and channel addresses, and broken numbers.
# The real-looking numbers are the fictitious ones the other tests use.
ODD_FROM = (
    "", "anonymous", "Anonymous", "+", "client:foo", "client:", "whatsapp:", "sms:+",
    "+77010000000", "+992900000000", "whatsapp:+77010000000", "+7 701 000 00 00",
    "+" + "9" * 16, "+" + "1" * 300, "9" * 5000, "+266696687", "+٧٧٠١٠٠٠٠٠٠٠",
)

_no_nul = st.characters(exclude_characters="\x00")
hostile_text = st.one_of(
    st.sampled_from(SQL_INJECTION + HTML_INJECTION + ODD_TEXT),
    st.text(_no_nul, max_size=60),  # any unicode but lone surrogates, which UTF-8 cannot carry
    st.binary(max_size=40).map(lambda raw: raw.replace(b"\0", b"").decode("latin-1")),
)
odd_from = st.one_of(st.sampled_from(ODD_FROM), hostile_text)
