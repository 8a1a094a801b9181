"""Configuration of the AI features, read once from the environment.

One typed class so that a bad value (a negative timeout, a zero cache) fails at start
instead of on the first query. Tests point the real Cohere SDK at a local server
through COHERE_BASE_URL.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Environment variables (names are the field names in upper case)."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    #: Cohere is used only when this is set; empty means offline (local model).
    cohere_api_key: SecretStr | None = None
    #: Base URL of Cohere's API; tests point it at a local server.
    cohere_base_url: str = "https://api.cohere.com"
    #: Multimodal embed model (texts and images share one vector space).
    cohere_embed_model: str = "embed-v4.0"
    cohere_chat_model: str = "command-a-03-2025"
    #: Seconds per Cohere request before falling back to the local path.
    cohere_timeout_s: float = Field(default=10.0, gt=0, le=120)
    #: Retries the SDK makes on 429/5xx before we fall back.
    cohere_max_retries: int = Field(default=2, ge=0, le=10)
    #: Entries kept in the in-process embedding cache (keyed by model and content).
    embed_cache_size: int = Field(default=4096, ge=1)
    embed_batch_size: int = Field(default=32, ge=1, le=96)
    #: Where ``python -m tier0_ai generate`` writes the corpora.
    ai_data_dir: Path = Path("data/ai")
    #: Longest natural-language query accepted, in characters.
    ai_max_query_chars: int = Field(default=2000, ge=16, le=100_000)
    ai_log_level: str = "INFO"
    #: "Today" for relative dates in questions ("last year"); unset = the latest
    #: record's date (the records' own calendar), which is what synthetic data needs.
    ai_reference_date: date | None = None
    #: Redis AUTH password for `python -m tier0_ai` (the same REDIS_PASSWORD the API
    #: reads); an environment variable, never a flag, so it stays out of `ps`.
    redis_password: SecretStr | None = None

    @property
    def cohere_enabled(self) -> bool:
        return self.cohere_api_key is not None and bool(self.cohere_api_key.get_secret_value())
