"""Configuration of the MQTT ingest worker, read from environment variables.

One typed class so a missing REGION or a bad port stops the worker at start-up with a
message naming the variable, instead of a worker writing to the wrong place.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from tier0_common.catalog import CANARY_TOPIC_ROOT, TOPIC_ROOT

from ..settings_base import IngestSettingsBase


class MqttIngestSettings(IngestSettingsBase):
    """REGION, REDIS_* and LOG_LEVEL come from IngestSettingsBase; the rest is MQTT's."""

    mqtt_host: str = Field("localhost", description="Mosquitto host")
    mqtt_port: int = Field(1883, ge=1, le=65535, description="Mosquitto port")
    mqtt_username: str | None = Field(
        None, description="MQTT user; the broker lets ingest subscribe only (docs/security.md)"
    )
    mqtt_password: SecretStr | None = Field(None, description="MQTT password of MQTT_USERNAME")
    mqtt_share_group: str | None = Field(
        None,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="shared-subscription group; replicas of one region split the stream. "
        "Default tier0-<REGION>: each region gets every message once",
    )
    mqtt_keepalive: int = Field(30, ge=5, le=600, description="MQTT keep-alive, seconds")
    mqtt_client_id: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="MQTT client id, stable per replica (a StatefulSet ordinal, a fixed "
        "name per local process): with it the session is persistent, so a restart resumes "
        "it and gets the QoS 1 messages the broker kept. Unset: <share group>-<hostname>-"
        "<pid> with a clean session, since a session nobody resumes would keep receiving "
        "its share of the group's messages",
    )
    mqtt_subscribe_qos: int = Field(
        1,
        ge=0,
        le=1,
        description="QoS the subscriptions ask for; 1 delivers each QoS 1 message at least "
        "once (acked after its Redis write), 0 makes everything at most once",
    )
    mqtt_clean_session: bool | None = Field(
        None,
        description="override the session kind: false keeps it (and QoS 1 messages) while "
        "the worker is away, true starts afresh on every connect. Default: persistent "
        "when MQTT_CLIENT_ID is set, clean otherwise",
    )
    batch_max: int = Field(
        2000, ge=1, le=100_000, description="messages per Redis pipeline (a flush starts at this)"
    )
    batch_max_wait_ms: int = Field(
        50, ge=0, le=10_000, description="longest a message waits for its batch to fill"
    )
    full_write_interval_seconds: float = Field(
        60.0,
        gt=0,
        description="a device's write carries only changed fields, except its first and "
        "one whole write per device at least this often (heals a Redis emptied behind "
        "the worker's back)",
    )
    summary_interval_seconds: float = Field(
        10.0, gt=0, description="how often the worker logs its structured summary"
    )
    metrics_port: int = Field(
        9101, ge=0, le=65535, description="Prometheus /metrics port; 0 disables it"
    )

    @property
    def mqtt_secret(self) -> str | None:
        return self.mqtt_password.get_secret_value() if self.mqtt_password else None

    @property
    def clean_session(self) -> bool:
        if self.mqtt_clean_session is not None:
            return self.mqtt_clean_session
        return self.mqtt_client_id is None

    @property
    def share_group(self) -> str:
        return self.mqtt_share_group or f"tier0-{self.region}"

    @property
    def topic_filters(self) -> list[str]:
        """Telemetry and canaries, both shared within the region's group.

        The canary shares the telemetry's group on purpose: it then travels exactly the
        path telemetry does, so a canary that arrives proves this region's group gets
        the stream (a group name wrongly shared by two regions would split both, and the
        canary would catch it). Each region's group still sees every canary once.
        """
        group = self.share_group
        return [f"$share/{group}/{TOPIC_ROOT}/#", f"$share/{group}/{CANARY_TOPIC_ROOT}/#"]
