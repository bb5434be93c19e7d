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
    secret_key: str = PLACEHOLDER_SECRET
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None

    telegram_token: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_max_concurrent_updates: int = 64
    telegram_max_messages_per_second: float = 30.0

    admin_language: str = "vi"
    admin_password: str | None = None
    admin_session_https_only: bool = False
    login_max_failures: int = 5
    login_lockout_minutes: int = 15

    content_dir: Path = PROJECT_ROOT / "content"
    locales_dir: Path = PROJECT_ROOT / "locales"
    languages: list[str] = ["vi", "en", "hmn", "tyz", "blt", "ium", "nut", "km", "zh"]
    qa_semantic: bool = True  # use multilingual-e5 when the `semantic` extra is installed
    max_text_length: int = 4096
    max_request_bytes: int = 65536

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        """A placeholder secret signs admin cookies anyone could forge, so only development may keep it."""
        if self.environment == "production" and self.secret_key == PLACEHOLDER_SECRET:
            raise ValueError("LOABAN_SECRET_KEY must be set to a long random value outside development")
        return self

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
