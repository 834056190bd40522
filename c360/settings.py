"""One typed settings object, read from the environment (and an optional `.env` file).

No other module reads ``os.environ``: they receive a :class:`Settings` or call :func:`get_settings`.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_NEO4J_PASSWORD = "c360-local-dev"  # noqa: S105 - local loopback server only, refused in production
DEV_ID_PEPPER = "c360-dev-pepper"  # development and tests only, refused in production


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every knob of the platform. Environment variable names are the field names in upper case."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", case_sensitive=False, populate_by_name=True
    )

    environment: Environment = Field(
        Environment.DEVELOPMENT,
        description="development, test or production (C360_ENV)",
        validation_alias="C360_ENV",
    )

    # -- the graph ---------------------------------------------------------------------------
    neo4j_uri: str | None = Field(
        None,
        description="Bolt/neo4j URI of an existing server. Unset: the project starts its own "
        "local server and connects to bolt://127.0.0.1:NEO4J_LOCAL_PORT.",
    )
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr = SecretStr(DEV_NEO4J_PASSWORD)
    neo4j_database: str = "neo4j"
    neo4j_connect_timeout_s: float = 5.0

    # -- the local server started by `c360 neo4j start` --------------------------------------
    c360_home: Path = Field(
        PROJECT_ROOT / ".c360",
        description="state of local runs (git-ignored)",
        validation_alias="C360_HOME",
    )
    neo4j_local_port: int = 7687
    neo4j_data_dir: Path | None = Field(
        None, description="data directory of the local server (default C360_HOME/neo4j)"
    )
    neo4j_heap: str = Field("1g", description="JVM heap of the local server (-Xms/-Xmx)")
    neo4j_pagecache: str = Field("1g", description="page cache of the local server")
    neo4j_cache_dir: Path = Field(
        Path.home() / ".cache" / "c360",
        description="where the resolved Neo4j classpath and compiled launcher are cached",
        validation_alias="C360_CACHE_DIR",
    )
    neo4j_start_timeout_s: float = 180.0

    # -- the loader ---------------------------------------------------------------------------
    id_pepper: SecretStr = Field(
        SecretStr(DEV_ID_PEPPER),
        description="pepper of the national-ID hash (C360_ID_PEPPER); the default is refused "
        "in production",
        validation_alias="C360_ID_PEPPER",
    )
    load_batch_size: int = Field(5000, description="rows per write transaction of `c360 load`")

    # -- the API ------------------------------------------------------------------------------
    api_host: str = "127.0.0.1"
    api_port: int = 8000

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if (
            self.environment is Environment.PRODUCTION
            and self.neo4j_password.get_secret_value() == DEV_NEO4J_PASSWORD
        ):
            raise ValueError(
                "NEO4J_PASSWORD must be set in production (the development default is refused)"
            )
        if (
            self.environment is Environment.PRODUCTION
            and self.id_pepper.get_secret_value() == DEV_ID_PEPPER
        ):
            raise ValueError(
                "C360_ID_PEPPER must be set in production (the development default is refused)"
            )
        return self

    @property
    def rejects_root(self) -> Path:
        return self.c360_home / "rejects"

    @property
    def local_data_dir(self) -> Path:
        return self.neo4j_data_dir or self.c360_home / "neo4j"

    @property
    def uses_local_server(self) -> bool:
        return not self.neo4j_uri

    @property
    def bolt_uri(self) -> str:
        return self.neo4j_uri or f"bolt://127.0.0.1:{self.neo4j_local_port}"

    @property
    def is_development(self) -> bool:
        return self.environment is not Environment.PRODUCTION


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
