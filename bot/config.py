"""The one typed settings object; nothing else in Loa Bản reads the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every knob of a Loa Bản deployment, read from `LOABAN_*` variables or a `.env` file."""

    model_config = SettingsConfigDict(env_prefix="LOABAN_", env_file=".env", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite:///./loaban.db"
    # The platforms' rates are shared by every process through Redis when set (redis://host:6379/0), else
    # through PostgreSQL; with SQLite (one machine, one sender) each process paces itself.
    redis_url: str | None = None
    secret_key: str = PLACEHOLDER_SECRET
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None

    telegram_token: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_max_concurrent_updates: int = 64
    # Telegram allows about 30/s; pacing a little under leaves room for network jitter, which would
    # otherwise bunch requests up at the platform and earn 429s (bench/broadcast.py measures both).
    telegram_max_messages_per_second: float = 29.0
    # Urgent bulletins may go at up to 1,000/s with Telegram's paid broadcast (charged in Stars to the bot).
    telegram_paid_broadcast: bool = False

    zalo_app_id: str | None = None
    zalo_app_secret: str | None = None  # the app's secret key: sent when refreshing the access token
    zalo_oa_secret_key: str | None = None  # the OA's secret key: checks webhook signatures
    zalo_refresh_token: str | None = None  # the first refresh token; rotated ones are kept in the database
    zalo_api_url: str = "https://openapi.zalo.me"
    zalo_oauth_url: str = "https://oauth.zaloapp.com"
    zalo_max_messages_per_second: float = 10.0
    zalo_free_window_hours: int = 48  # replies are free this long after a person's last message ...
    zalo_free_messages: int = 8  # ... up to this many
    zalo_window_days: int = 7  # after this much silence Zalo refuses any message (-230)
    zalo_quota_retry_minutes: int = 60  # a bulletin held for want of proactive quota is tried again then

    admin_language: str = "vi"
    admin_password: str | None = None
    admin_session_https_only: bool | None = None  # None: Secure whenever public_url is https
    trusted_proxies: list[str] = []  # addresses whose X-Forwarded-For/-Proto are believed
    login_max_failures: int = 5
    login_lockout_minutes: int = 15

    content_dir: Path = PROJECT_ROOT / "content"
    locales_dir: Path = PROJECT_ROOT / "locales"
    languages: list[str] = ["vi", "en", "hmn", "tyz", "blt", "ium", "nut", "km", "zh"]
    qa_semantic: bool = True  # use multilingual-e5 when the `semantic` extra is installed
    qa_poll_seconds: float = 2.0  # how often a process looks for Q&A edits made by another process
    max_text_length: int = 4096
    max_request_bytes: int = 65536

    media_dir: Path = Path("data/media")
    # s3://bucket/prefix keeps every file in S3-compatible object storage that all machines reach; unset,
    # files stay in media_dir (one machine, or a folder every machine mounts).
    media_url: str = ""
    s3_endpoint_url: str | None = None  # MinIO, Ceph, a provider's storage; unset: AWS
    s3_region: str | None = None
    s3_access_key_id: str | None = None  # unset: boto3's own chain (environment, instance role)
    s3_secret_access_key: str | None = None
    max_upload_mb: int = 20
    data_export_hours: int = 24  # how long a person's copy of their data (📄 Dữ liệu của tôi) can be fetched
    tts_engine: Literal["auto", "gtts", "espeak"] = "auto"  # auto: gTTS, espeak-ng when Google fails
    gtts_url: str = "https://translate.google.com"
    tts_timeout_seconds: float = 15.0
    espeak_voice: str = "vi"  # or vi-vn-x-central, vi-vn-x-south

    run_worker: bool = True  # `serve` sends bulletins too; false when `loaban worker` runs apart
    relay_lead_minutes: int = 60  # prestigious persons get bulletins this much earlier
    quiet_hours: str = "21:00-06:00"  # non-urgent bulletins wait; empty to send at any hour
    timezone: str = "Asia/Ho_Chi_Minh"
    question_answer_days: int = 3  # a forwarded question answered later counts as late in reports
    delivery_concurrency: int = 16  # messages in flight at once: also the most a crash can duplicate
    # Urgent warnings sent by paid broadcast (1,000/s) need more in flight to keep that pace: this many.
    delivery_paid_concurrency: int = 256
    delivery_max_attempts: int = 5
    delivery_chat_interval_seconds: float = 1.0  # between two messages to one person (Telegram: 1/s)
    # The housekeeping lease, and each claim on outbox rows: a sender that stops renewing them is replaced,
    # and its rows in flight are sent again, after this long (never sooner: no sender races a live one).
    # Renewed every third of it by a thread of its own, whatever the event loop does, so a live sender
    # keeps its claims through a renewal 6 s late (a database failover, a lock wait); a dead one's rows go
    # out again within 12 s (this, plus the lease holder's next look a third of it later).
    delivery_lease_seconds: float = 9.0

    # Durable jobs (a bulletin's audio): every `serve` and `worker` process runs them on threads of its own.
    jobs_threads: int = 2  # jobs one process runs at once
    jobs_poll_seconds: float = 1.0  # how often it looks for jobs queued by other processes
    jobs_claim_seconds: float = 60.0  # a job whose process stops renewing its claim is taken again after this
    jobs_max_attempts: int = 5  # a job failing this often is given up, with its reason
    jobs_retry_seconds: float = 10.0  # the wait before the first retry, doubling up to 10 minutes
    jobs_keep_days: int = 30  # finished jobs (done or given up) are deleted after this many days
    # Replies a crash left unsent are looked for this often by every process with a channel running, each
    # claimed before it is resent (one process sends it, once); only replies at least this old are taken.
    resend_every_seconds: float = 60.0
    resend_after_seconds: float = 300.0

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        """A placeholder secret signs admin cookies anyone could forge, so only development may keep it."""
        if self.environment == "production" and self.secret_key == PLACEHOLDER_SECRET:
            raise ValueError("LOABAN_SECRET_KEY must be set to a long random value outside development")
        return self

    @property
    def secure_cookies(self) -> bool:
        """The admin cookie goes over HTTPS only whenever the public URL is HTTPS, unless set otherwise."""
        if self.admin_session_https_only is not None:
            return self.admin_session_https_only
        return (self.public_url or "").startswith("https://")

    @property
    def base_url(self) -> str:
        """Where people and officials reach this deployment: the public URL, else where it listens."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def zalo_enabled(self) -> bool:
        """Zalo runs when the app, the OA's secret and a refresh token are all configured."""
        return all((self.zalo_app_id, self.zalo_app_secret, self.zalo_oa_secret_key, self.zalo_refresh_token))

    @property
    def telegram_mode(self) -> Literal["off", "webhook", "polling-capable"]:
        """Which way Telegram updates can reach this process, before the CLI's --polling is considered."""
        if not self.telegram_token:
            return "off"
        return "webhook" if self.public_url else "polling-capable"


@lru_cache
def get_settings() -> Settings:
    """Settings are read once per process; tests build their own instances instead."""
    return Settings()
