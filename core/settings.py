"""One typed settings object, read from the environment (and an optional `.env` file).

No other module reads ``os.environ``: they receive a :class:`Settings` or call :func:`get_settings`.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_NEO4J_PASSWORD = "c360-local-dev"  # noqa: S105 - local loopback server only, refused in production
DEV_JWT_SECRET = "c360-dev-only-hs256-secret-change-me"  # noqa: S105 - development/test only, refused in production
DEV_ID_PEPPER = "c360-dev-pepper"  # development and tests only, refused in production
MIN_SESSION_SECRET_LENGTH = 32


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
    bulk_import_heap: str = Field(
        "512m",
        description="JVM heap of Neo4j's importer (`c360 load --bulk-import`); its caches are "
        "off-heap and sized by the importer to the data (about 1.1 GiB at a million customers)",
    )
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
    load_write_transactions: int = Field(
        1,
        ge=1,
        le=16,
        description="write transactions `c360 load` runs at once (batches of one step at a time); "
        "more for a server with cores to spare (on the 2-core machine with the loader beside "
        "it, 2 gave the same time)",
    )
    load_shrink_tolerance: float = Field(
        0.1,
        ge=0,
        le=1,
        description="a file with more than this fraction fewer rows than its previous load fails "
        "`c360 load` unless --allow-shrink (a partial extract would be loaded as the whole)",
    )

    # -- the API ------------------------------------------------------------------------------
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes of `c360 serve`")

    console_dist_dir: Path = Field(
        PROJECT_ROOT / "console" / "dist",
        description="the built relationship-manager console served at /console (make console-build)",
    )

    # -- complaint service levels (hours) ---------------------------------------------------
    sla_first_response_hours: float = Field(24.0, description="first response due within")
    sla_resolution_hours: float = Field(12.0, description="resolution due within (MINOR)")
    sla_major_resolution_hours: float = Field(4.0, description="resolution due within (MAJOR)")
    sla_average_handling_hours: float = Field(
        12.0, description="target of the average handling time (opened to resolved) per period"
    )
    sla_at_risk_ratio: float = Field(
        0.8, gt=0, le=1, description="an open complaint is AT_RISK from this share of a target used"
    )
    complaint_taxonomy_file: Path = Field(
        PROJECT_ROOT / "core" / "complaint_taxonomy.toml",
        description="complaint categories, cause types and subtypes (zh and en labels)",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description='origins allowed by CORS, a JSON list, e.g. ["https://rm.bank.example"]',
    )
    max_page_size: int = Field(100, description="largest `first` a connection accepts")
    rate_limit_per_second: float = Field(
        10.0, description="per-subject token bucket refill rate (requests per second)"
    )
    rate_limit_burst: int = Field(60, description="per-subject token bucket capacity")
    audit_database: str | None = Field(
        None,
        description="database the audit trail is written to (default NEO4J_DATABASE); only "
        "NEO4J_DATABASE itself is accepted: a write commits with its audit event in one "
        "transaction, and Neo4j has no transaction across databases",
    )
    max_query_cost: int = Field(
        2000,
        ge=1,
        description="largest static cost of one operation (objects it may return, a graph query "
        "counting 10, pages multiplied by `first`); above it LIMIT_EXCEEDED before execution",
    )
    max_body_bytes: int = Field(
        1024 * 1024, ge=1024, description="largest request body (HTTP 413 above it)"
    )
    request_timeout_s: float = Field(
        15.0, gt=0, description="a /graphql request still running after this answers 503"
    )
    graph_query_timeout_s: float = Field(
        4.0,
        gt=0,
        description="bound of one API read or audit write (its retries included): the client "
        "gives up and the server's transaction times out after it (503 SERVICE_UNAVAILABLE)",
    )
    graph_pool_size: int = Field(100, ge=1, description="Bolt connections per API process")
    graph_acquisition_timeout_s: float = Field(
        3.0, gt=0, description="wait for a free Bolt connection before 503 SERVICE_UNAVAILABLE"
    )
    audit_wait_timeout_s: float = Field(
        4.0, gt=0, description="wait for a read's audit event to commit before refusing the read"
    )
    metrics_token: SecretStr | None = Field(
        None,
        description="bearer token /metrics requires; in production /metrics is served only "
        "when it is set",
    )
    metrics_max_operations: int = Field(
        50,
        ge=0,
        description="distinct operation names /metrics labels per process; later ones count as "
        '"other"',
    )
    api_header_timeout_s: float = Field(
        10.0, gt=0, description="`c360 serve` closes a connection whose request headers lag"
    )
    trusted_documents: bool = Field(
        False,
        description="run only operations registered ahead of time (`c360 documents register`) "
        "and the console's own; recommended in production",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses of reverse proxies whose X-Forwarded-For/-Proto `c360 serve` "
        'believes, a JSON list, e.g. ["10.0.0.5"]; empty: none (the peer address is the client)',
    )

    # -- bearer tokens (JWT) ------------------------------------------------------------------
    jwt_issuer: str = Field("c360-dev", description="required `iss` of every token")
    jwt_audience: str = Field("c360-api", description="required `aud` of every token")
    jwt_jwks_url: str | None = Field(
        None, description="JWKS URL of the identity provider (RS256/ES256 keys)"
    )
    jwt_jwks_file: Path | None = Field(None, description="JWKS file (instead of a URL)")
    jwt_jwks_min_refresh_s: float = Field(
        60.0, description="minimum interval between JWKS refreshes triggered by an unknown kid"
    )
    jwt_dev_secret: SecretStr | None = Field(
        None,
        description="HS256 shared secret, accepted only in development and test "
        "(default: a fixed development secret); refused in production",
    )
    jwt_clock_skew_s: int = Field(30, description="leeway for exp, nbf and iat (seconds)")
    jwt_role_claim: str = Field(
        "roles",
        description="claim holding the caller's roles; a dotted path such as realm_access.roles "
        "reaches into a nested claim when no top-level claim has that exact name",
    )

    # -- console sign-in through the bank's OpenID Connect provider ---------------------------
    oidc_issuer: str | None = Field(
        None,
        description="issuer URL of the OpenID Connect provider; its discovery document is "
        "OIDC_ISSUER/.well-known/openid-configuration. Set with the client id and secret to "
        "enable `Sign in with the bank` on /console",
    )
    oidc_client_id: str | None = Field(None, description="the console's client id at the provider")
    oidc_client_secret: SecretStr | None = Field(
        None, description="the console's client secret (confidential client)"
    )
    oidc_scopes: str = Field("openid profile email", description="scopes asked at sign-in")
    oidc_redirect_uri: str | None = Field(
        None,
        description="the callback registered at the provider, e.g. "
        "https://rm.bank.example/console/callback (default: derived from the request)",
    )
    session_secret: SecretStr | None = Field(
        None,
        description="key (32+ characters) that derives session lookup keys and encrypts the "
        "stored tokens; required when OIDC is configured, the same on every replica",
    )
    session_cookie_secure: bool | None = Field(
        None,
        description="Secure flag of the session cookie (default: true in production, false "
        "elsewhere); false only for plain-http test set-ups",
    )
    session_max_age_s: int = Field(
        8 * 3600, ge=60, description="absolute lifetime of a console session (seconds)"
    )

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if (
            self.environment is Environment.PRODUCTION
            and self.neo4j_password.get_secret_value() == DEV_NEO4J_PASSWORD
        ):
            raise ValueError(
                "NEO4J_PASSWORD must be set in production (the development default is refused)"
            )
        if self.environment is Environment.PRODUCTION:
            if self.jwt_dev_secret is not None:
                raise ValueError(
                    "JWT_DEV_SECRET is refused in production: HS256 tokens are for development "
                    "and tests only; configure JWT_JWKS_URL or JWT_JWKS_FILE"
                )
            if not (self.jwt_jwks_url or self.jwt_jwks_file):
                raise ValueError("JWT_JWKS_URL or JWT_JWKS_FILE must be set in production")
        self._check_oidc()
        if (
            self.environment is Environment.PRODUCTION
            and self.id_pepper.get_secret_value() == DEV_ID_PEPPER
        ):
            raise ValueError(
                "C360_ID_PEPPER must be set in production (the development default is refused)"
            )
        return self

    @model_validator(mode="after")
    def _heaps_are_jvm_sizes(self) -> Settings:
        for variable, value in (
            ("NEO4J_HEAP", self.neo4j_heap),
            ("BULK_IMPORT_HEAP", self.bulk_import_heap),
        ):
            if not re.fullmatch(r"[1-9][0-9]*[kKmMgGtT]?", value):
                raise ValueError(
                    f"{variable} ({value}) must be a JVM heap size: a whole number with k, m, g "
                    "or t (512m, 1100m, 2g)"
                )
        return self

    @model_validator(mode="after")
    def _audit_in_the_graph_database(self) -> Settings:
        if self.audit_database and self.audit_database.lower() != self.neo4j_database.lower():
            raise ValueError(
                f"AUDIT_DATABASE ({self.audit_database}) must be unset or NEO4J_DATABASE "
                f"({self.neo4j_database}): each write commits with its audit event in one "
                "transaction, and Neo4j has no transaction across databases"
            )
        return self

    def _check_oidc(self) -> None:
        given = [self.oidc_issuer, self.oidc_client_id, self.oidc_client_secret]
        if any(given) and not all(given):
            raise ValueError(
                "OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are set together or not at all"
            )
        if not self.oidc_enabled:
            return
        if "openid" not in self.oidc_scopes.split():
            raise ValueError("OIDC_SCOPES must include openid")
        secret = self.session_secret.get_secret_value() if self.session_secret else ""
        if len(secret) < MIN_SESSION_SECRET_LENGTH:
            raise ValueError(
                f"SESSION_SECRET (at least {MIN_SESSION_SECRET_LENGTH} characters) is required "
                "when OIDC is configured; there is no default"
            )

    @property
    def oidc_enabled(self) -> bool:
        """Console sign-in through the provider (OIDC_ISSUER, client id and secret all set)."""
        return bool(self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret)

    @property
    def oidc_metadata_url(self) -> str:
        return f"{str(self.oidc_issuer).rstrip('/')}/.well-known/openid-configuration"

    @property
    def cookie_secure(self) -> bool:
        if self.session_cookie_secure is not None:
            return self.session_cookie_secure
        return self.environment is Environment.PRODUCTION

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

    @property
    def hs256_secret(self) -> str | None:
        """The HS256 secret, or None where HS256 is not accepted at all (production)."""
        if self.environment is Environment.PRODUCTION:
            return None
        return self.jwt_dev_secret.get_secret_value() if self.jwt_dev_secret else DEV_JWT_SECRET

    @property
    def audit_db(self) -> str:
        return self.audit_database or self.neo4j_database


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
