"""What every partner adapter's settings share: variables named as in `.env.example`, read by
pydantic-settings from the environment, or (as the registry does) from the variables the
process read, `.env` included (`Settings.env`); a partner URL left unset points at the
partner's path on the sandbox (`SANDBOX_URL`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Self

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PartnerSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    sandbox_url: str = Field("http://127.0.0.1:8100", validation_alias="SANDBOX_URL")
    # The partner's URL: each adapter names its variable (NETSUITE_BASE_URL, …) and where the
    # sandbox plays it.
    configured_url: str | None = None
    sandbox_path: ClassVar[str] = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Self:
        """From the process's variables (`Settings.env`) or a test's; empty counts as unset."""
        return cls.model_validate({name: value for name, value in env.items() if value})

    @property
    def url(self) -> str:
        """The configured URL, or the partner's path on the sandbox."""
        return self.on_sandbox(self.configured_url, self.sandbox_path)

    def on_sandbox(self, configured: str | None, path: str) -> str:
        """`configured`, or `path` on the sandbox."""
        return (configured or f"{self.sandbox_url.rstrip('/')}{path}").rstrip("/")
