"""Two-factor login's rules: codes of the current step ±1, each once; recovery codes once,
stored hashed; who must use it; an admin's reset and the command line's."""

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.organisations.models import Organisation
from app.users import lifecycle, two_factor
from app.users import service as users
from app.users.models import AuthToken, RecoveryCode, Role, User
from tests.channels.voice.test_voice_safety import dump_all_tables
from tests.conftest import WEEKDAY_MORNING
from tests.users.people import PASSWORD

pytestmark = pytest.mark.usefixtures("demo_directory")
NOW = WEEKDAY_MORNING
STEP = timedelta(seconds=30)


def make(session, username: str, role: Role = Role.OPERATOR,
         organisation: str | None = "kz-almaty-shelter") -> User:
    user = users.create_user(session, username, PASSWORD, role,
                             organisation if role is Role.OPERATOR else None)
    session.flush()
    return user


def enrolled(session, settings, username: str = "aigerim", **kwargs) -> tuple[User, str,
                                                                              list[str]]:
    """A user who scanned the QR code and confirmed with the code of the step before."""
    user = make(session, username, **kwargs)
    enrolment = two_factor.begin(session, settings, user)
    codes = two_factor.confirm(session, settings, user,
                               pyotp.TOTP(enrolment.secret).at(NOW - STEP), NOW)
    return user, enrolment.secret, codes


def test_a_code_works_for_the_current_step_and_one_either_side(session, settings):
    user, secret, _ = enrolled(session, settings)
    totp = pyotp.TOTP(secret)
    assert not two_factor.verify(session, settings, user, totp.at(NOW + 2 * STEP), NOW)
    assert not two_factor.verify(session, settings, user, totp.at(NOW - 2 * STEP), NOW)
    assert not two_factor.verify(session, settings, user, "000000" if totp.at(NOW) != "000000"
                                 else "111111", NOW)
    assert two_factor.verify(session, settings, user, totp.at(NOW), NOW)
    assert two_factor.verify(session, settings, user, totp.at(NOW + STEP), NOW)


def test_a_code_is_good_once_and_an_older_one_never_after_it(session, settings):
    user, secret, _ = enrolled(session, settings)
    totp = pyotp.TOTP(secret)
    assert two_factor.verify(session, settings, user, totp.at(NOW + STEP), NOW)
    assert not two_factor.verify(session, settings, user, totp.at(NOW + STEP), NOW)  # replay
    assert not two_factor.verify(session, settings, user, totp.at(NOW), NOW)  # older step
    # The confirmation's own code (the step before) cannot sign in either.
    assert not two_factor.verify(session, settings, user, totp.at(NOW - STEP), NOW)


def test_enrolment_counts_only_once_confirmed(session, settings):
    user = make(session, "aigerim")
    enrolment = two_factor.begin(session, settings, user)
    assert "otpauth://totp/Hotline:aigerim?" in enrolment.uri and "issuer=Hotline" in enrolment.uri
    assert enrolment.svg.startswith("<svg") and "style" not in enrolment.svg
    assert not two_factor.enabled(user)
    assert not two_factor.verify(session, settings, user, pyotp.TOTP(enrolment.secret).at(NOW),
                                 NOW)
    with pytest.raises(two_factor.TwoFactorError):
        two_factor.confirm(session, settings, user, "12345", NOW)
    assert not two_factor.enabled(user)
    two_factor.confirm(session, settings, user, pyotp.TOTP(enrolment.secret).at(NOW), NOW)
    assert two_factor.enabled(user) and user.totp_confirmed_at == NOW


def test_recovery_codes_are_ten_hashed_and_each_works_once(session, settings):
    user, secret, codes = enrolled(session, settings)
    assert len(set(codes)) == 10 and all(len(c) == 9 and c[4] == "-" for c in codes)
    session.flush()
    stored = dump_all_tables(session)
    for secret_thing in (*codes, *(c.replace("-", "") for c in codes), secret):
        assert secret_thing not in stored
    assert all(row.code_hash.startswith("$argon2id$")
               for row in session.scalars(select(RecoveryCode)))
    typed = " " + codes[3].upper().replace("-", " ") + " "  # as someone types from paper
    assert two_factor.verify(session, settings, user, typed, NOW)
    assert not two_factor.verify(session, settings, user, codes[3], NOW)
    assert two_factor.remaining_recovery_codes(session, user) == 9
    assert not two_factor.verify(session, settings, user, "abcd-efgh", NOW)
    session.commit()  # the audit entries are chained and written at commit
    used = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "auth.2fa.recovery_used")).one()
    assert used.detail == {"remaining": 9}


def test_enrolling_again_replaces_the_old_recovery_codes(session, settings):
    user, secret, old = enrolled(session, settings, role=Role.OPERATOR)
    two_factor.disable(session, settings, user, pyotp.TOTP(secret).at(NOW), NOW)
    assert session.scalars(select(RecoveryCode)).all() == []
    enrolment = two_factor.begin(session, settings, user)
    new = two_factor.confirm(session, settings, user, pyotp.TOTP(enrolment.secret).at(NOW),
                             NOW)
    assert session.query(RecoveryCode).count() == 10
    assert not two_factor.verify(session, settings, user, old[0], NOW)
    assert two_factor.verify(session, settings, user, new[0], NOW)


def test_admins_and_coordinators_must_operators_when_their_organisation_says(session):
    admin, coordinator = make(session, "root", Role.ADMIN), make(session, "c", Role.COORDINATOR)
    operator = make(session, "aigerim")
    assert two_factor.must_enrol(session, admin) and two_factor.must_enrol(session, coordinator)
    assert not two_factor.must_enrol(session, operator)
    session.scalars(select(Organisation).where(Organisation.slug == "kz-almaty-shelter")
                    ).one().require_2fa = True
    assert two_factor.must_enrol(session, operator)


def test_it_cannot_be_turned_off_where_required(session, settings):
    admin, secret, _ = enrolled(session, settings, "root", role=Role.ADMIN)
    with pytest.raises(two_factor.TwoFactorError, match="required"):
        two_factor.disable(session, settings, admin, pyotp.TOTP(secret).at(NOW), NOW)
    operator, secret, codes = enrolled(session, settings, "aigerim")
    with pytest.raises(two_factor.WrongCode):  # a stolen session alone cannot
        two_factor.disable(session, settings, operator, pyotp.TOTP(secret).at(NOW - STEP), NOW)
    assert two_factor.enabled(operator)
    two_factor.disable(session, settings, operator, codes[0], NOW)  # or a recovery code
    assert not two_factor.enabled(operator) and operator.totp_secret_encrypted is None
    session.commit()
    actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["auth.2fa.enrolled", "auth.2fa.enrolled", "auth.2fa.failed",
                       "auth.2fa.recovery_used", "auth.2fa.disabled"]


def test_an_admin_resets_a_lost_phone_within_their_reach_only(session, settings):
    user, _, _ = enrolled(session, settings, "aigerim")
    users.issue_token(session, settings, user, NOW)
    hotline_admin = make(session, "root", Role.ADMIN)
    other_admin = make(session, "boss", Role.ADMIN)
    other_admin.organisation_id = session.scalars(select(Organisation.id).where(
        Organisation.slug == "tj-dushanbe-shelter")).one()
    with pytest.raises(LookupError):
        two_factor.reset(session, other_admin, user, NOW)
    with pytest.raises(lifecycle.NotAllowed):
        two_factor.reset(session, hotline_admin, hotline_admin, NOW)
    assert two_factor.enabled(user)
    two_factor.reset(session, hotline_admin, user, NOW)
    assert not two_factor.enabled(user) and user.totp_secret_encrypted is None
    assert session.scalars(select(RecoveryCode)).all() == []
    assert session.scalars(select(AuthToken)).all() == []  # signed out everywhere
    session.commit()
    entry = session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.2fa.reset")
                            ).one()
    assert (entry.username, entry.detail["username"], entry.detail["tokens_revoked"]) == (
        "root", "aigerim", 1)


def test_the_command_line_resets_two_factor(fresh_database_url, monkeypatch, capsys, tmp_path):
    from app import cli, db
    from app.config import get_settings
    from app.organisations import service as organisations
    from tests.conftest import configure_cli, make_settings

    settings = make_settings(fresh_database_url, data_dir=tmp_path)
    configure_cli(monkeypatch, settings)
    get_settings.cache_clear()
    db.upgrade(fresh_database_url)
    engine = db.make_engine(fresh_database_url)
    with db.make_sessionmaker(engine)() as session, session.begin():
        organisations.load_demo_if_empty(session)
        enrolled(session, settings, "root", role=Role.ADMIN)
    try:
        assert cli.main(["user", "reset-2fa", "root"]) == 0
        assert cli.main(["user", "reset-2fa", "nobody"]) == 1
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr()
    assert "root: two-factor login cleared" in out.out and "no user 'nobody'" in out.err
    with db.make_sessionmaker(engine)() as session:
        user = session.scalars(select(User).where(User.username == "root")).one()
        assert not two_factor.enabled(user) and two_factor.must_enrol(session, user)
        reset = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "auth.2fa.reset")).one()
        assert reset.detail["via"] == "command line" and reset.username == "system"
    engine.dispose()
