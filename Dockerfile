# Production image: the package installed (not editable), catalogs compiled, every prompt
# rendered, run as a non-root user. Migrations are NOT applied here: run `hotline migrate`
# once per release before the app starts (compose.yaml has a one-shot `migrate` service the
# app waits for), so a failed migration stops the release instead of being ignored by
# every replica. Give every HOTLINE_* secret at run time; production refuses to start
# without them.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HOTLINE_ENV=production \
    HOTLINE_HOME=/srv/hotline \
    HOTLINE_DATA_DIR=/var/lib/hotline \
    HOTLINE_AUDIO_DIR=/srv/hotline/audio

RUN useradd --system --uid 10001 --home-dir /srv/hotline --shell /usr/sbin/nologin hotline \
 && mkdir -p /srv/hotline /var/lib/hotline \
 && chown hotline:hotline /var/lib/hotline

WORKDIR /srv/hotline
COPY pyproject.toml README.md alembic.ini babel.cfg ./
COPY app ./app
COPY migrations ./migrations
COPY locales ./locales
# The package goes to site-packages; alembic.ini, migrations/ and locales/ stay here, found
# through HOTLINE_HOME. Audio is rendered at build time with throw-away development secrets.
RUN pip install . && rm -rf app build \
 && hotline i18n compile \
 && HOTLINE_ENV=development HOTLINE_DATA_DIR=/tmp/build hotline audio render \
 && rm -rf /tmp/build

USER hotline
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
# The journal and the saved directory snapshot (degraded mode) live in the data dir: keep
# it on a volume. A restart while the database is down still starts and answers calls.
VOLUME /var/lib/hotline
# One worker per core (WEB_CONCURRENCY overrides). uvicorn's own proxy handling is off: the
# app believes X-Forwarded-For only from HOTLINE_TRUSTED_PROXIES.
CMD ["sh", "-c", "exec uvicorn app.main:serve_app --factory --host 0.0.0.0 --port 8000 --no-proxy-headers --timeout-graceful-shutdown 10 --workers \"${WEB_CONCURRENCY:-$(nproc)}\""]
