"""Settings from the environment, validated once at start; a bad value names its variable."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from config.durations import parse_duration
from config.logging_setup import LogFormat, LogLevel, parse_log_format, parse_log_level
from domain.listing import WhenMade, WhoMade
from domain.marketplace_limits import EBAY_SITES, EBAY_UNBRANDED, ListingLimits
from domain.marketplaces import ALL_TASK_QUEUES, Marketplace
from domain.signatures import decode_public_key, decode_signing_secret

DEFAULT_SIMULATOR_URL = "http://127.0.0.1:8081"
EBAY_INVENTORY_PATH = "/sell/inventory/v1"
EBAY_TOKEN_URLS = {
    "production": "https://api.ebay.com/identity/v1/oauth2/token",
    "sandbox": "https://api.sandbox.ebay.com/identity/v1/oauth2/token",
}
"""eBay's OAuth token endpoints (developer.ebay.com/api-docs/static/oauth-refresh-token-request
.html, "OAuth token-request endpoints")."""


class ConfigurationError(SystemExit):
    """Raised (as a clean exit) when a setting is invalid; the message names the variable."""


ENCRYPTION_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
ENCRYPTION_KEY_BYTES = 32


def decode_encryption_key(entry: str) -> tuple[str, bytes]:
    """``<key_id>:<base64 of 32 bytes>`` -> (key id, AES-256 key).

    Messages never quote the entry: a swapped ``key:id`` would otherwise print the key.
    """
    key_id, separator, encoded = entry.partition(":")
    if not separator:
        raise ValueError("must be <key_id>:<base64 of 32 bytes>")
    if not ENCRYPTION_KEY_ID.fullmatch(key_id):
        raise ValueError("the key id must be 1-64 characters of A-Z a-z 0-9 _ -")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as err:
        raise ValueError("the key is not valid base64") from err
    if len(raw) != ENCRYPTION_KEY_BYTES:
        raise ValueError(f"the key must decode to {ENCRYPTION_KEY_BYTES} bytes, got {len(raw)}")
    return key_id, raw


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return value.split()
    return value


class Settings(BaseSettings):
    """Every setting of every process. Field name = environment variable (upper case)."""

    model_config = SettingsConfigDict(
        env_file=None, case_sensitive=False, extra="ignore", validate_default=True
    )

    # Temporal
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"

    # Gateway
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    signing_secrets: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    signing_public_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    admin_token: SecretStr | None = None
    provide_input_wait: float = Field(default=30.0, ge=0, le=300)
    webhook_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    status_query_timeout: float = Field(default=5.0, gt=0, le=60)
    # How long the gateway waits for a worker to accept an Update (payment, cancel, retry)
    # before answering 503; and how long it retries a Temporal call that fails as unavailable.
    update_timeout: float = Field(default=10.0, gt=0, le=120)
    temporal_rpc_retry_seconds: float = Field(default=1.0, gt=0, le=60)
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=100 * 1_048_576)

    # Payload encryption at rest: space-separated <key_id>:<base64 of 32 bytes>; the first
    # encrypts, every one decrypts (rotation). Empty: payloads are stored unencrypted.
    payload_encryption_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    # Browser origins (the Temporal UI) allowed to call the codec server routes /codec/*.
    codec_cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://127.0.0.1:8233", "http://localhost:8233"]
    )

    # Jobs
    payment_timeout: timedelta = timedelta(hours=12)
    job_max_retries: int = Field(default=3, ge=0, le=100)
    batch_concurrency: int = Field(default=50, ge=1, le=10_000)
    batch_history_events_per_run: int = Field(default=8_000, ge=20, le=50_000)
    retry_window: timedelta = timedelta(days=7)
    # How long a job waits in awaiting_input for fields a marketplace needs (issue 15); past
    # it the job fails with input_timeout.
    input_timeout: timedelta = timedelta(hours=24)

    # MIP-003 (Masumi): what the start response tells an agent marketplace. The identifier and
    # the seller's verification key come from registering the agent with Masumi; unset, they
    # say so (Sokosumi refuses an empty one). The three times are Unix-second deadlines the
    # Masumi Payment Service would set: submitResultTime = start + MASUMI_SUBMIT_RESULT_AFTER,
    # unlockTime = that + MASUMI_UNLOCK_AFTER, externalDisputeUnlockTime = that +
    # MASUMI_DISPUTE_UNLOCK_AFTER. payByTime is the job's own pay_by_time (PAYMENT_TIMEOUT).
    masumi_agent_identifier: str = Field(
        default="unconfigured-set-MASUMI_AGENT_IDENTIFIER", min_length=1, max_length=512
    )
    masumi_seller_vkey: str = Field(
        default="unconfigured-set-MASUMI_SELLER_VKEY", min_length=1, max_length=512
    )
    masumi_submit_result_after: timedelta = timedelta(hours=24)
    masumi_unlock_after: timedelta = timedelta(hours=6)
    masumi_dispute_unlock_after: timedelta = timedelta(hours=6)

    # Publish retry policy per marketplace (429/5xx/timeouts; 4xx are never retried)
    ebay_max_attempts: int = Field(default=6, ge=1, le=100)
    etsy_max_attempts: int = Field(default=6, ge=1, le=100)
    vinted_max_attempts: int = Field(default=6, ge=1, le=100)
    publish_retry_initial_interval: timedelta = timedelta(seconds=1)
    publish_retry_maximum_interval: timedelta = timedelta(seconds=60)
    publish_heartbeat_timeout: timedelta = timedelta(seconds=30)

    # Worker
    worker_enabled: bool = True
    # Which task queues this worker process polls (scale-out: e.g. `jobs` on one process and
    # the marketplace queues on others). Empty: all of them.
    worker_task_queues: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # The workflow sandbox: "strict" (Temporal's default: a non-deterministic call such as
    # datetime.now() fails the workflow task) or "off" (less CPU per job, no such guard).
    worker_workflow_sandbox: Literal["strict", "off"] = "strict"
    worker_max_concurrent_workflow_tasks: int = Field(default=100, ge=1)
    # Sales (issue 14): seconds between two reads of a marketplace's orders (eBay getOrders,
    # Etsy getShopReceipts); 0 starts no reader (Vinted reports sales by webhook).
    sales_sync_interval: float = Field(default=5.0, ge=0, le=3600)
    worker_max_cached_workflows: int = Field(default=1000, ge=0)
    marketplace_max_concurrent_activities: int = Field(default=50, ge=1)
    worker_graceful_shutdown_seconds: float = Field(default=10.0, ge=0)

    # Marketplaces (defaults point at the local simulator)
    simulator_url: str = DEFAULT_SIMULATOR_URL
    ebay_base_url: str | None = None
    ebay_token: SecretStr = SecretStr("sim-ebay-user-token")
    # OAuth refresh (refresh_token grant): unset EBAY_REFRESH_TOKEN means no refresh, and a
    # 401 errorId 1001 fails the marketplace at once. The token endpoint is eBay's own for
    # EBAY_ENVIRONMENT unless EBAY_OAUTH_URL names another (`make run`: the simulator's).
    ebay_environment: Literal["production", "sandbox"] = "production"
    ebay_oauth_url: str | None = None
    ebay_client_id: str = "sim-ebay-client"
    ebay_client_secret: SecretStr = SecretStr("sim-ebay-client-secret")
    ebay_refresh_token: SecretStr | None = SecretStr("sim-ebay-refresh-token")
    # The user token serves the Inventory API (sell.inventory), the category metadata of the
    # Taxonomy and Metadata APIs (api_scope) and the orders of the Fulfillment API
    # (sell.fulfillment, to detect sales): the user's consent must include all three.
    ebay_oauth_scope: str = (
        "https://api.ebay.com/oauth/api_scope https://api.ebay.com/oauth/api_scope/sell.inventory"
        " https://api.ebay.com/oauth/api_scope/sell.fulfillment"
    )
    ebay_marketplace_id: str = "EBAY_DE"
    # Unset: the marketplace's locale (domain.marketplace_limits.EBAY_SITES); Belgium and
    # Canada take either of two.
    ebay_content_language: str | None = None
    ebay_category_id: str = "57988"
    # The brand aspect of a listing without a brand, where the category requires one. Unset:
    # eBay's word for "no brand" on the marketplace (Markenlos, Unbranded); empty: none, such
    # listings fail naming the aspect.
    ebay_default_brand: str | None = None
    ebay_merchant_location_key: str = "warehouse-1"
    ebay_fulfillment_policy_id: str = "fulfillment-1"
    ebay_payment_policy_id: str = "payment-1"
    ebay_return_policy_id: str = "return-1"
    etsy_base_url: str | None = None
    etsy_api_key: SecretStr = SecretStr("sim-etsy-keystring:sim-etsy-shared-secret")
    etsy_access_token: SecretStr = SecretStr("12345678.sim-etsy-access-token")
    # OAuth refresh (refresh_token grant; Etsy rotates the refresh token on every use). The
    # pair above seeds the shop's token workflow once (activities/etsy_oauth.py); empty
    # ETSY_REFRESH_TOKEN: no refresh, the access token is used until Etsy refuses it.
    etsy_refresh_token: SecretStr | None = SecretStr("12345678.sim-etsy-refresh-token")
    etsy_oauth_url: str | None = None
    etsy_shop_id: str = "5550001"
    # What the seller configures in the shop (README "Talking to the real marketplaces").
    etsy_taxonomy_id: int = Field(default=1, ge=1)
    etsy_shipping_profile_id: int = Field(default=9001, ge=1)
    etsy_return_policy_id: int | None = Field(default=None, ge=1)
    # Etsy prices are in the shop's currency; a listing priced in another one is refused.
    etsy_shop_currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    # Provenance sent when the listing does not say (domain.listing.Listing.who_made …): a
    # reseller's defaults. Etsy refuses items made by someone else unless vintage or supplies.
    etsy_who_made: WhoMade = WhoMade.SOMEONE_ELSE
    etsy_when_made: WhenMade = WhenMade.BEFORE_2006
    etsy_is_supply: bool = False
    vinted_base_url: str | None = None
    vinted_access_key: SecretStr = SecretStr("sim-vinted-access-key")
    vinted_signing_key: SecretStr = SecretStr("sim-vinted-signing-key")
    # What the seller configures from Vinted's ontologies (GetOntologies): the catalog and
    # package size every listing without its own ``category`` gets, the brand text for
    # listings without ``brand`` and the size for those without ``size``. The defaults are
    # ids of the simulator's ontology (simulator/vinted_ontology.py); a real seller sets
    # them from GET /api/v1/ontologies. Empty means "none": a listing that needs the value
    # then fails before any write, naming it.
    vinted_catalog_id: int | None = Field(default=1206, ge=1)
    vinted_package_size_id: int | None = Field(default=2, ge=1)
    vinted_default_brand: str | None = Field(default="Unbranded", min_length=1, max_length=100)
    vinted_default_size_id: int | None = Field(default=1000, ge=1)
    # How long a worker keeps Vinted's ontology before fetching it again (seconds).
    vinted_ontology_ttl: float = Field(default=3600.0, ge=0)
    # Simulator only: where it sends Vinted's signed webhooks (CREATE_ITEM_SUCCESS, ...,
    # ITEM_SOLD); unset URL = no webhooks (the real API sends them only to URLs registered
    # with POST /api/v1/webhooks, which the simulator also serves). The signing key is the one
    # they are signed with, and the one the gateway's POST /webhooks/vinted verifies: in
    # production the ``signing_key`` Vinted answered when the webhook was registered (the
    # default, the simulator's, is refused once VINTED_BASE_URL names the real API).
    vinted_webhook_url: str | None = None
    vinted_webhook_signing_key: SecretStr = SecretStr("sim-vinted-webhook-signing-key")
    marketplace_http_timeout: float = Field(default=10.0, gt=0, le=300)

    # Listing images, downloaded from the listing's URLs and uploaded as files (Etsy), through
    # the outbound guard (activities/outbound_guard.py: public addresses only).
    # IMAGE_FETCH_OVERRIDE_URL sends every download to a local image source instead (offline
    # machines) and is the only origin the guard lets reach a loopback or private address:
    # default the simulator's /images while Etsy is the simulator (ETSY_BASE_URL unset), off
    # once ETSY_BASE_URL names the real API; "off" turns it off explicitly.
    image_fetch_override_url: str | None = None
    image_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    image_fetch_timeout: float = Field(default=30.0, gt=0, le=300)

    # HTTP requests per second to each marketplace, across all worker processes (token
    # refreshes and lookups included, image downloads not): the marketplace's budget workflow
    # leases each process a share, and each process spaces its requests at its share
    # (workflows/request_budget.py, activities/request_pacer.py). Burst: at most the rate + one
    # request per worker process in any 1-second window (README "Rate limits"). Also the
    # publish activities per second on the marketplace's queue.
    ebay_rate_limit: float = Field(default=5.0, gt=0)
    etsy_rate_limit: float = Field(default=10.0, gt=0)
    vinted_rate_limit: float = Field(default=2.0, gt=0)

    # Simulator
    simulator_host: str = "127.0.0.1"
    simulator_port: int = Field(default=8081, ge=1, le=65535)
    # eBay user tokens live 7200 s (eBay's refresh-token response, expires_in); shorter in
    # tests that watch a token expire.
    simulator_ebay_token_lifetime: int = Field(default=7200, ge=1, le=86_400)
    # eBay's request limit as the simulator enforces it (simulator/ebay_limits.py says why).
    simulator_ebay_requests_per_second: float = Field(default=23.0, gt=0)
    simulator_ebay_request_burst: int = Field(default=100, ge=1)
    # Requests per second the simulated Etsy allows the API key before answering 429: Etsy's
    # default for a new app (etsy/open-api#46, #198; developers.etsy.com rate-limits page).
    simulator_etsy_limit_per_second: int = Field(default=10, ge=1, le=100_000)
    # Requests per second per access key the simulated Vinted answers before it answers 429
    # (0: no limit). Vinted documents no figure; see README "Vinted assumptions".
    simulator_vinted_requests_per_second: float = Field(default=10.0, ge=0)

    # Completion callbacks (issue 16; README "Operating it"). The worker signs every POST with
    # CALLBACK_SIGNING_SECRET (whsec_…, Standard Webhooks); while it is unset the gateway
    # refuses callback_url (422). Attempts: CALLBACK_TIMEOUT seconds each, then waits from
    # CALLBACK_RETRY_INITIAL_INTERVAL doubling to CALLBACK_RETRY_MAXIMUM_INTERVAL, for
    # CALLBACK_RETRY_WINDOW after the event. https only unless CALLBACK_ALLOW_HTTP; public
    # addresses only unless CALLBACK_ALLOW_PRIVATE (local receivers: `make run` sets both).
    callback_signing_secret: SecretStr | None = None
    callback_retry_window: timedelta = timedelta(hours=24)
    callback_retry_initial_interval: timedelta = timedelta(seconds=5)
    callback_retry_maximum_interval: timedelta = timedelta(hours=1)
    callback_timeout: float = Field(default=10.0, gt=0, le=60)
    callback_allow_http: bool = False
    callback_allow_private: bool = False
    callback_max_concurrent_deliveries: int = Field(default=50, ge=1)

    # Observability: logs of every process; the worker's SDK metrics (Prometheus)
    log_format: LogFormat = "json"
    log_level: LogLevel = "INFO"
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = Field(default=None, ge=1, le=65535)

    @field_validator("signing_secrets", mode="before")
    @classmethod
    def _split_secrets(cls, value: Any) -> Any:
        return _split(value)

    @field_validator("signing_secrets")
    @classmethod
    def _check_secrets(cls, value: list[SecretStr]) -> list[SecretStr]:
        for secret in value:
            decode_signing_secret(secret.get_secret_value())
        return value

    @field_validator("callback_signing_secret", mode="before")
    @classmethod
    def _empty_callback_secret_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("callback_signing_secret")
    @classmethod
    def _check_callback_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            decode_signing_secret(value.get_secret_value())
        return value

    @field_validator("signing_public_keys", mode="before")
    @classmethod
    def _split_public_keys(cls, value: Any) -> Any:
        return _split(value)

    @field_validator("signing_public_keys")
    @classmethod
    def _check_public_keys(cls, value: list[str]) -> list[str]:
        for key in value:
            decode_public_key(key)
        return value

    @field_validator("payload_encryption_keys", "codec_cors_origins", mode="before")
    @classmethod
    def _split_encryption_lists(cls, value: Any) -> Any:
        return _split(value)

    @field_validator("payload_encryption_keys")
    @classmethod
    def _check_encryption_keys(cls, value: list[SecretStr]) -> list[SecretStr]:
        first_entry: dict[str, int] = {}
        for number, entry in enumerate(value, start=1):
            try:
                key_id, _ = decode_encryption_key(entry.get_secret_value())
            except ValueError as err:
                raise ValueError(f"entry {number}: {err}") from None
            if key_id in first_entry:
                raise ValueError(f"entries {first_entry[key_id]} and {number} use the same key id")
            first_entry[key_id] = number
        return value

    @field_validator("codec_cors_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        for number, origin in enumerate(value, start=1):
            parts = urlsplit(origin)
            if (
                parts.scheme not in ("http", "https")
                or not parts.netloc
                or parts.path
                or parts.query
                or parts.fragment
            ):
                raise ValueError(
                    f"entry {number} must be an origin such as http://127.0.0.1:8233 "
                    "(scheme, host and port; no path, no trailing slash)"
                )
        return value

    @field_validator("worker_task_queues", mode="before")
    @classmethod
    def _split_task_queues(cls, value: Any) -> Any:
        return [q for q in re.split(r"[\s,]+", value) if q] if isinstance(value, str) else value

    @field_validator("worker_task_queues")
    @classmethod
    def _check_task_queues(cls, value: list[str]) -> list[str]:
        unknown = [q for q in value if q not in ALL_TASK_QUEUES]
        if unknown:
            known = ", ".join(ALL_TASK_QUEUES)
            raise ValueError(f"unknown task queue {unknown[0]!r}; known: {known}")
        return value

    def polls(self, task_queue: str) -> bool:
        """Whether this worker process serves ``task_queue`` (WORKER_TASK_QUEUES)."""
        return not self.worker_task_queues or task_queue in self.worker_task_queues

    @field_validator("admin_token", mode="before")
    @classmethod
    def _empty_token_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator(
        "payment_timeout",
        "retry_window",
        "input_timeout",
        "publish_retry_initial_interval",
        "publish_retry_maximum_interval",
        "publish_heartbeat_timeout",
        "masumi_submit_result_after",
        "masumi_unlock_after",
        "masumi_dispute_unlock_after",
        "callback_retry_window",
        "callback_retry_initial_interval",
        "callback_retry_maximum_interval",
        mode="before",
    )
    @classmethod
    def _parse_timeout(cls, value: Any) -> timedelta:
        return parse_duration(value)

    @field_validator("log_format", mode="before")
    @classmethod
    def _parse_log_format(cls, value: Any) -> Any:
        return parse_log_format(value) if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _parse_log_level(cls, value: Any) -> Any:
        return parse_log_level(value) if isinstance(value, str) else value

    @field_validator("metrics_port", mode="before")
    @classmethod
    def _empty_port_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator(
        "vinted_catalog_id",
        "vinted_package_size_id",
        "vinted_default_brand",
        "vinted_default_size_id",
        "vinted_webhook_url",
        mode="before",
    )
    @classmethod
    def _empty_vinted_value_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("ebay_refresh_token", "etsy_refresh_token", mode="before")
    @classmethod
    def _empty_refresh_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator(
        "etsy_return_policy_id",
        "image_fetch_override_url",
        "ebay_oauth_url",
        "etsy_oauth_url",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("image_fetch_override_url")
    @classmethod
    def _check_override(cls, value: str | None) -> str | None:
        if value is None or value.lower() == "off":
            return value
        return cls._check_url(value)

    @field_validator(
        "simulator_url",
        "ebay_base_url",
        "etsy_base_url",
        "vinted_base_url",
        "ebay_oauth_url",
        "etsy_oauth_url",
        "vinted_webhook_url",
    )
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/") if value else value

    @field_validator("ebay_base_url")
    @classmethod
    def _check_ebay_base_url(cls, value: str | None) -> str | None:
        # The Metadata and Taxonomy APIs are found beside it, on the same host.
        if value and not value.endswith(EBAY_INVENTORY_PATH):
            raise ValueError(
                f"must be the Inventory API's base URL, ending in {EBAY_INVENTORY_PATH} "
                f"(https://api.ebay.com{EBAY_INVENTORY_PATH})"
            )
        return value

    @field_validator("ebay_marketplace_id")
    @classmethod
    def _check_ebay_marketplace(cls, value: str) -> str:
        if value not in EBAY_SITES:
            raise ValueError(f"unknown eBay marketplace {value!r}; known: {', '.join(EBAY_SITES)}")
        return value

    @model_validator(mode="after")
    def _check_ebay_content_language(self) -> Settings:
        locales = EBAY_SITES[self.ebay_marketplace_id].locales
        if self.ebay_content_language is not None and self.ebay_content_language not in locales:
            raise ValueError(
                f"EBAY_CONTENT_LANGUAGE {self.ebay_content_language!r} is not a language of "
                f"{self.ebay_marketplace_id} ({', '.join(locales)})"
            )
        return self

    @field_validator("masumi_submit_result_after")
    @classmethod
    def _result_due_after_payment(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        payment_timeout = info.data.get("payment_timeout")
        if payment_timeout is not None and value <= payment_timeout:
            raise ValueError(
                f"must be longer than PAYMENT_TIMEOUT ({payment_timeout}): a result is due "
                "after its payment"
            )
        return value

    @model_validator(mode="after")
    def _check_ebay_endpoints_agree(self) -> Settings:
        """An explicit EBAY_BASE_URL and the token endpoint are both the simulator's or
        neither: a real API with the simulator's token endpoint would renew the seller's real
        refresh token there (real_api_fidelity.md #9), the simulator's API with eBay's token
        endpoint would send the simulator's credentials to eBay. EBAY_BASE_URL unset is the
        local stack, which names EBAY_OAUTH_URL itself (`make run`, docker-compose.yml)."""
        if self.ebay_base_url is None:
            return self
        simulator = f"{self.simulator_url.rstrip('/')}/"
        api_simulated = self.ebay_base_url.startswith(simulator)
        token_simulated = (self.ebay_oauth_url or "").startswith(simulator)
        if api_simulated and not token_simulated:
            raise ValueError(
                f"EBAY_BASE_URL is the simulator's but the token endpoint is "
                f"{self.ebay_token_url()}: set EBAY_OAUTH_URL to the simulator's "
                f"({simulator}ebay/identity/v1/oauth2/token)"
            )
        if token_simulated and not api_simulated:
            raise ValueError(
                f"EBAY_OAUTH_URL is the simulator's but EBAY_BASE_URL is {self.ebay_base_url}: "
                "set EBAY_OAUTH_URL empty for eBay's own token endpoint (EBAY_ENVIRONMENT)"
            )
        return self

    # -- derived -------------------------------------------------------------------------

    def base_url(self, marketplace: Marketplace) -> str:
        explicit = {
            Marketplace.EBAY: self.ebay_base_url,
            Marketplace.ETSY: self.etsy_base_url,
            Marketplace.VINTED: self.vinted_base_url,
        }[marketplace]
        if explicit:
            return explicit
        root = self.simulator_url.rstrip("/")
        return {
            Marketplace.EBAY: f"{root}/ebay{EBAY_INVENTORY_PATH}",
            Marketplace.ETSY: f"{root}/etsy/v3/application",
            Marketplace.VINTED: f"{root}/vinted/api/v1",
        }[marketplace]

    def image_source_override(self) -> str | None:
        """Where image downloads go instead of the listing's own URLs (None: the URLs)."""
        explicit = self.image_fetch_override_url
        if explicit is not None:
            return None if explicit.lower() == "off" else explicit.rstrip("/")
        if self.etsy_base_url is None:
            return f"{self.simulator_url.rstrip('/')}/images"
        return None

    def etsy_token_url(self) -> str:
        """Etsy's OAuth token endpoint: ETSY_OAUTH_URL, else next to ETSY_BASE_URL
        (``https://api.etsy.com/v3/public/oauth/token``), else the simulator's."""
        if self.etsy_oauth_url:
            return self.etsy_oauth_url
        root = self.base_url(Marketplace.ETSY).removesuffix("/application")
        return f"{root}/public/oauth/token"

    def ebay_token_url(self) -> str:
        """EBAY_OAUTH_URL, else eBay's token endpoint for EBAY_ENVIRONMENT (never the
        simulator: `make run` names it explicitly)."""
        return self.ebay_oauth_url or EBAY_TOKEN_URLS[self.ebay_environment]

    def ebay_api_url(self, base_path: str) -> str:
        """Another eBay API on the Inventory API's host, e.g. ``/commerce/taxonomy/v1``."""
        root = self.base_url(Marketplace.EBAY).removesuffix(EBAY_INVENTORY_PATH)
        return f"{root}{base_path}"

    def ebay_content_locale(self) -> str:
        """The Content-Language of everything we write to eBay: the marketplace's locale."""
        return self.ebay_content_language or EBAY_SITES[self.ebay_marketplace_id].content_language

    def ebay_brand_default(self) -> str | None:
        if self.ebay_default_brand is not None:
            return self.ebay_default_brand or None
        return EBAY_UNBRANDED.get(self.ebay_marketplace_id)

    def listing_limits(self) -> ListingLimits:
        """What POST /start_job checks a listing against (domain.marketplace_limits)."""
        return ListingLimits(
            ebay_marketplace_id=self.ebay_marketplace_id,
            etsy_shop_currency=self.etsy_shop_currency,
        )

    def max_attempts(self, marketplace: Marketplace) -> int:
        return {
            Marketplace.EBAY: self.ebay_max_attempts,
            Marketplace.ETSY: self.etsy_max_attempts,
            Marketplace.VINTED: self.vinted_max_attempts,
        }[marketplace]

    def rate_limit(self, marketplace: Marketplace) -> float:
        """Requests per second to ``marketplace``, across all worker processes."""
        return {
            Marketplace.EBAY: self.ebay_rate_limit,
            Marketplace.ETSY: self.etsy_rate_limit,
            Marketplace.VINTED: self.vinted_rate_limit,
        }[marketplace]

    def signing_keys(self) -> list[bytes]:
        return [decode_signing_secret(s.get_secret_value()) for s in self.signing_secrets]

    def public_keys(self) -> list[bytes]:
        return [decode_public_key(k) for k in self.public_keys_raw()]

    def public_keys_raw(self) -> list[str]:
        return list(self.signing_public_keys)

    def callback_key(self) -> bytes | None:
        """The HMAC key completion callbacks are signed with (None: callbacks are off)."""
        secret = self.callback_signing_secret
        return decode_signing_secret(secret.get_secret_value()) if secret else None

    def encryption_keys(self) -> list[tuple[str, bytes]]:
        """(key id, AES-256 key) in configured order: the first encrypts, all decrypt."""
        return [decode_encryption_key(k.get_secret_value()) for k in self.payload_encryption_keys]


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment; on a bad value exit with one line naming it."""
    try:
        return Settings(**overrides)
    except ValidationError as err:
        first = err.errors()[0]
        variable = str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigurationError(f"configuration error: {variable}: {message}") from None
