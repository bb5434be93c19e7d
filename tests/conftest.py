"""Fixtures: a real database per test (SQLite, and PostgreSQL when LOABAN_TEST_DATABASE_URL is set),
a fake Telegram Bot API on loopback, and Loa Bản itself served over real HTTP."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from playwright.sync_api import Page
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url

from bot.accounts import service as accounts
from bot.config import PROJECT_ROOT, Settings
from bot.content import import_all
from bot.db import Database
from bot.migrations import upgrade
from bot.qa.engine import load_embedder
from bot.qa.knowledge import Knowledge
from tests.browser import Chromium, launch
from tests.fakes import zalo_api
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.zalo_api import FakeZalo

PG_URL = os.environ.get("LOABAN_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
WEBHOOK_SECRET = "s3cret-webhook-token_for-tests"
TG_TOKEN = "123456:TEST-TOKEN"
MEDIA_ROOT = tempfile.TemporaryDirectory(prefix="loaban-tests-")  # removed when the test process ends
# Tests speak plain HTTP on loopback only. An empty CA directory spares every HTTP client (an app makes
# four) loading certifi's bundle, a sixth of a second each; an HTTPS call a test made would fail, not leave.
NO_CAS = tempfile.TemporaryDirectory(prefix="loaban-no-cas-")
os.environ.pop("SSL_CERT_FILE", None)
os.environ["SSL_CERT_DIR"] = NO_CAS.name

# Every admin a test makes and every sign-in hashes a password: Argon2id at its production cost (64 MiB,
# 3 passes, 4 lanes) takes a second of CPU on a busy 2-core machine. Tests hash with Argon2id at its
# lowest cost; what they check (the right password signs in, a wrong one or an unknown name does not, and
# still costs a check) does not depend on the cost, which the hash carries for whoever verifies it.
accounts._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
accounts._DUMMY_HASH = accounts._hasher.hash("loaban-dummy-password")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for every test so each starts from a clean schema quickly."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def shipped_knowledge(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The shipped knowledge base embedded once per test process, as a server does before it serves
    (`Knowledge.warm`): the process shares one embedder, so a live server's index over the same entries
    then takes no embedding, which on a slow machine would outlast the drivers' waits."""
    path = tmp_path_factory.mktemp("shipped") / "loaban.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    with database.transaction() as session:
        import_all(session, PROJECT_ROOT / "content")
    knowledge = Knowledge(database, Settings.model_fields["timezone"].default, embedder=load_embedder())
    knowledge.warm()
    knowledge.stop()
    database.dispose()


def knowledge_of(live: LiveServer) -> Knowledge:
    """The live server's Q&A index: a test that edits entries beside the server warms it, rather than
    wait for its poll, before asking."""
    knowledge: Knowledge | None = live.server.config.app.state.runtime.conversation.knowledge
    assert knowledge is not None
    return knowledge


class PostgresSchemas:
    """Fresh PostgreSQL schemas for tests, each a replay of one migrated template schema's dump, which
    takes half the time of migrating. A thread of this test process makes the next schema while a test
    runs and another drops the used ones behind it, so a test waits on neither."""

    def __init__(self, url: str) -> None:
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
        self.base = make_url(url).set(drivername="postgresql+psycopg")
        self.template = f"loaban_tpl_{uuid.uuid4().hex[:12]}"
        self._run(f'CREATE SCHEMA "{self.template}"')
        upgrade(self.url(self.template))
        libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        dump = subprocess.run(
            ["pg_dump", "--schema", self.template, "--inserts", "--no-owner", "--no-privileges", libpq],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        # psql's meta-commands (\restrict) are not SQL; the rest is, schema name included.
        self.script = "\n".join(line for line in dump.splitlines() if not line.startswith("\\"))
        self.maker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-schemas")
        self.dropper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-drops")
        self.next: Future[str] = self.maker.submit(self._make)

    def url(self, schema: str) -> str:
        """The URL of a connection that works in this schema."""
        url = self.base.update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    def _run(self, sql: str) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(sql)

    def _make(self) -> str:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        self._run(f"BEGIN;{self.script.replace(self.template, schema)};COMMIT;")
        return schema

    def take(self) -> str:
        """A migrated schema nobody has used; the next one is made meanwhile."""
        schema = self.next.result()
        self.next = self.maker.submit(self._make)
        return schema

    def give_back(self, schema: str) -> None:
        """Drop a used schema without waiting for it."""
        self.dropper.submit(self._run, f'DROP SCHEMA "{schema}" CASCADE')

    def close(self) -> None:
        """Drop the unused schema and the template once every drop asked for has run."""
        self.give_back(self.next.result())
        self.give_back(self.template)
        self.maker.shutdown(wait=True)
        self.dropper.shutdown(wait=True)
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_schemas() -> Iterator[PostgresSchemas]:
    """This test process's template schema and its replays (one template per xdist worker)."""
    assert PG_URL is not None
    schemas = PostgresSchemas(PG_URL)
    yield schemas
    schemas.close()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A freshly migrated database of each backend, private to this test."""
    if request.param == "sqlite":
        path = tmp_path / "loaban.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    schemas: PostgresSchemas = request.getfixturevalue("postgres_schemas")
    schema = schemas.take()
    try:
        yield schemas.url(schema)
    finally:
        schemas.give_back(schema)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A Database handle on the test's database."""
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def fake_telegram() -> Iterator[FakeBotAPI]:
    """The fake Bot API on a loopback port, limits on. Tests tap far faster than people do, so each chat
    may burst 30 messages before the 1/s limit bites; test_telegram.py checks the tight limits."""
    fake = FakeBotAPI(TG_TOKEN, chat_burst=30).start()
    yield fake
    fake.stop()


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Test settings: never the environment's, always explicit."""
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "secret_key": "test-secret-key-0123456789abcdef",
        "login_max_failures": 5,
        # Tests speak plain HTTP on loopback though the public URL is https (as behind a TLS proxy).
        "admin_session_https_only": False,
        # Never the working tree's data/media: tests run side by side in several processes.
        "media_dir": Path(tempfile.mkdtemp(prefix="media-", dir=MEDIA_ROOT.name)),
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def webhook_settings(
    database_url: str, fake: FakeBotAPI, zalo: FakeZalo | None = None, **overrides: Any
) -> Settings:
    """A webhook deployment pointed at a fake Bot API (and a fake Zalo, if given), with any other
    settings a test needs."""
    if zalo is not None:
        overrides = zalo_settings(zalo) | overrides
    return make_settings(
        database_url,
        telegram_token=TG_TOKEN,
        telegram_api_url=fake.url,
        telegram_webhook_secret=WEBHOOK_SECRET,
        public_url="https://loaban.example.org",
        **overrides,
    )


def zalo_settings(fake: FakeZalo) -> dict[str, Any]:
    """The settings of an OA whose app is the fake Zalo's."""
    return {
        "zalo_app_id": zalo_api.APP_ID,
        "zalo_app_secret": zalo_api.APP_SECRET,
        "zalo_oa_secret_key": zalo_api.OA_SECRET,
        "zalo_refresh_token": zalo_api.FIRST_REFRESH_TOKEN,
        "zalo_api_url": fake.url,
        "zalo_oauth_url": fake.url,
    }


@pytest.fixture
def fake_zalo() -> Iterator[FakeZalo]:
    """The fake Zalo (OA API, OAuth and CDN) on a loopback port."""
    fake = FakeZalo().start()
    yield fake
    fake.stop()


@pytest.fixture
def settings(database_url: str, fake_telegram: FakeBotAPI, fake_zalo: FakeZalo) -> Settings:
    """Settings for a webhook deployment pointed at the fake Bot API and the fake Zalo."""
    return webhook_settings(database_url, fake_telegram, fake_zalo)


@pytest.fixture
def live(settings: Settings) -> Iterator[LiveServer]:
    """Loa Bản served over real HTTP on loopback, with Telegram started in its lifespan."""
    from bot.server import create_app

    server = LiveServer(create_app(settings)).start()
    yield server
    server.stop()


@pytest.fixture
def client(live: LiveServer) -> Iterator[httpx.Client]:
    """An HTTP client for the live server (cookies kept, redirects not followed)."""
    with httpx.Client(base_url=live.url, timeout=20) as http:
        yield http


@pytest.fixture(scope="session")
def chromium() -> Iterator[Chromium]:
    """One Chromium per test process: launching it took seconds per browser test."""
    browser = launch()
    yield browser
    browser.close()


@pytest.fixture
def page(request: pytest.FixtureRequest, chromium: Chromium) -> Iterator[Page]:
    """A fresh browser page on a 412 px phone; a screenshot is saved when the test fails."""
    with chromium.page(request, viewport={"width": 412, "height": 860}) as page:
        yield page


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Expose each phase's report on the test item, so fixtures can react to a failure (screenshots)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)
