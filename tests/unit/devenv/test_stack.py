"""The stack wires every component to the right ports and runs up/down/status in order."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.support.servers import free_port
from tier0_devenv import cli, credentials, stack
from tier0_devenv.processes import DevenvError, ProcessSpec, Supervisor, TcpCheck, process_alive
from tier0_devenv.settings import DevenvSettings
from tier0_devenv.steps import Progress, Step


def _specs(settings: DevenvSettings, name: str) -> dict[str, ProcessSpec]:
    component = next(c for c in stack.components() if c.name == name)
    return {spec.name: spec for spec in component.build(settings)}


def test_start_order_is_stores_then_ingest_then_api_then_simulators_then_k8s() -> None:
    assert [c.name for c in stack.components()] == [
        "mosquitto", "rabbitmq", "redis-region1", "redis-region2", "ai-data",
        "ingest-mqtt-region1", "ingest-mqtt-region2",
        "ingest-amqp-region1", "ingest-amqp-region2",
        "api-region1", "api-region2", "sim-iot", "sim-users", "dashboard",
        "k8s", "k8s-objects", "operator", "watch",
    ]  # fmt: skip


def test_operator_watches_the_local_api_server(tmp_path: Path) -> None:
    operator = _specs(DevenvSettings(run_dir=tmp_path), "operator")["operator"]
    assert operator.argv == [sys.executable, "-m", "tier0_operator"]
    keys = ("KUBECONFIG", "WATCH_NAMESPACE", "OPERATOR_METRICS_PORT")
    assert {k: operator.env[k] for k in keys} == {
        "KUBECONFIG": str(tmp_path / "k8s" / "operator-kubeconfig"),
        "WATCH_NAMESPACE": "default",
        "OPERATOR_METRICS_PORT": "9200",
    }  # fmt: skip
    assert operator.ports == [9200, 9201]
    assert str(operator.health) == "GET http://127.0.0.1:9201/healthz"
    assert operator.prepare is not None
    with pytest.raises(DevenvError, match="no kubeconfig"):
        operator.prepare()


def test_defaults_are_the_seed_ports(tmp_path: Path) -> None:
    settings = DevenvSettings(run_dir=tmp_path)
    assert _specs(settings, "mosquitto")["mosquitto"].ports == [1883]
    rabbit = _specs(settings, "rabbitmq")
    assert rabbit["rabbitmq"].ports == [5672, 25672]
    assert rabbit["rabbitmq"].env["RABBITMQ_NODENAME"] == "tier0-5672@localhost"
    assert rabbit["rabbitmq-epmd"].ports == [25673]
    assert _specs(settings, "redis-region2")["redis-region2"].url == "redis://127.0.0.1:6380/0"


def test_region2_apps_talk_to_region2_redis(tmp_path: Path) -> None:
    settings = DevenvSettings(run_dir=tmp_path)
    api = _specs(settings, "api-region2")["api-region2"]
    assert api.argv == [sys.executable, "-m", "tier0_api"]
    assert {k: api.env[k] for k in ("REGION", "REDIS_PORT", "API_HOST", "API_PORT")} == {
        "REGION": "region2", "REDIS_PORT": "6380", "API_HOST": "127.0.0.1", "API_PORT": "8100",
    }  # fmt: skip
    assert str(api.health) == "GET http://127.0.0.1:8100/health"
    mqtt = _specs(settings, "ingest-mqtt-region1")["ingest-mqtt-region1"]
    assert (mqtt.env["MQTT_PORT"], mqtt.env["METRICS_PORT"], mqtt.env["REDIS_PORT"]) == (
        "1883", "9101", "6379",
    )  # fmt: skip
    amqp = _specs(settings, "ingest-amqp-region2")["ingest-amqp-region2"]
    ingest = credentials.of_run(settings).amqp["ingest"]
    assert amqp.env["AMQP_URL"] == (f"amqp://tier0-ingest:{ingest.password}@127.0.0.1:5672/%2F")
    assert amqp.env["METRICS_PORT"] == "9112"


def test_each_component_gets_its_own_broker_identity(tmp_path: Path) -> None:
    settings = DevenvSettings(run_dir=tmp_path)
    users = {
        name: _specs(settings, name)[name].env.get("MQTT_USERNAME")
        for name in ("ingest-mqtt-region1", "sim-iot")
    }
    assert users == {"ingest-mqtt-region1": "tier0-ingest", "sim-iot": "tier0-simulator"}
    operator = _specs(settings, "operator")["operator"]
    assert operator.env["CANARY_MQTT_USERNAME"] == "tier0-canary"
    assert (
        _specs(settings, "sim-users")["sim-users"]
        .env["AMQP_URL"]
        .startswith("amqp://tier0-simulator:")
    )
    # One generated Redis password, the same for the store and its clients.
    store = _specs(settings, "redis-region1")["redis-region1"]
    api = _specs(settings, "api-region1")["api-region1"]
    assert api.env["REDIS_PASSWORD"] == credentials.of_run(settings).redis_password
    assert all(api.env["REDIS_PASSWORD"] not in arg for arg in store.argv)


def test_env_overrides_reach_the_simulator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TIER0_NUM_DEVICES", "400")
    monkeypatch.setenv("TIER0_PUBLISH_INTERVAL_SECONDS", "1")
    monkeypatch.setenv("TIER0_MQTT_PORT", "17050")
    sim = _specs(DevenvSettings(run_dir=tmp_path), "sim-iot")["sim-iot"]
    assert {k: sim.env[k] for k in ("NUM_DEVICES", "PUBLISH_INTERVAL_SECONDS", "MQTT_PORT")} == {
        "NUM_DEVICES": "400", "PUBLISH_INTERVAL_SECONDS": "1", "MQTT_PORT": "17050",
    }  # fmt: skip
    assert DevenvSettings().publish_interval_seconds == 1.0


def test_redis_password_is_passed_to_apps_but_kept_out_of_argv(tmp_path: Path) -> None:
    settings = DevenvSettings(run_dir=tmp_path, redis_password="s3cret")
    redis_spec = _specs(settings, "redis-region1")["redis-region1"]
    assert "s3cret" not in " ".join(redis_spec.argv)
    assert redis_spec.prepare is not None
    redis_spec.prepare()
    conf = tmp_path / "redis-region1" / "redis.conf"
    assert "requirepass s3cret" in conf.read_text()
    assert conf.stat().st_mode & 0o077 == 0
    assert _specs(settings, "api-region1")["api-region1"].env["REDIS_PASSWORD"] == "s3cret"


def test_colliding_ports_are_rejected() -> None:
    with pytest.raises(ValidationError, match="collide on \\[6379\\]"):
        DevenvSettings(redis2_port=6379)


def test_unknown_component_selection_is_an_error(tmp_path: Path) -> None:
    settings = DevenvSettings(run_dir=tmp_path, components="mosquitto,redis")
    with pytest.raises(DevenvError, match="unknown components \\['redis'\\]"):
        stack.selected_components(settings)


@pytest.mark.parametrize(
    ("module", "runnable"),
    [("json.tool", True), ("tier0_devenv", True), ("email", False), ("tier0_nope.iot", False)],
)
def test_module_runnable(module: str, runnable: bool) -> None:
    assert stack.module_runnable(module) is runnable


def _listener_component(name: str, port: int) -> stack.Component:
    code = (
        "import signal, socket; s = socket.socket(); "
        f"s.bind(('127.0.0.1', {port})); s.listen(); signal.pause()"
    )
    spec = ProcessSpec(
        name, [sys.executable, "-c", code], ports=[port], health=TcpCheck("127.0.0.1", port),
        url=f"tcp://127.0.0.1:{port}",
    )  # fmt: skip
    return stack.Component(name, lambda _settings: [spec])


def test_up_status_down_with_a_missing_module(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = [
        _listener_component("first", free_port()),
        stack.Component("later", lambda _s: [], module="tier0_not_written_yet.worker"),
        _listener_component("second", free_port()),
    ]
    monkeypatch.setattr(stack, "components", lambda: fake)
    monkeypatch.setenv("TIER0_RUN_DIR", str(tmp_path))

    assert cli.main(["up"]) == 0
    out = capsys.readouterr().out
    assert "later: skipped: tier0_not_written_yet.worker not installed yet" in out
    rows = stack.status(DevenvSettings())
    assert [(r.name, r.status) for r in rows] == [
        ("first", "healthy"), ("later", "not installed"), ("second", "healthy"),
    ]  # fmt: skip
    pids = [r.pid for r in rows if r.pid is not None]

    assert cli.main(["down"]) == 0
    out = capsys.readouterr().out
    assert out.index("second: stopped") < out.index("first: stopped")
    assert not any(process_alive(pid) for pid in pids)
    assert cli.main(["status"]) == 0
    assert "UNHEALTHY" not in capsys.readouterr().out


def test_table_lines_up_columns() -> None:
    table = cli.format_table(
        [stack.Row("mosquitto", 12, "mqtt://127.0.0.1:1883", "healthy", 3),
         stack.Row("sim-iot", None, "", "skipped")]
    )  # fmt: skip
    assert table.splitlines() == [
        "NAME       PID  URL                    STATUS   RESTARTS",
        "mosquitto  12   mqtt://127.0.0.1:1883  healthy  3",
        "sim-iot    -    -                      skipped  -",
    ]


class _ListenerStep(Step):
    """A Step that keeps its daemon in its own supervisor folder, like the control plane."""

    def __init__(self, name: str, port: int) -> None:
        self.component = _listener_component(name, port)

    def _supervisor(self, settings: DevenvSettings) -> Supervisor:
        return Supervisor(settings.run_dir / "own")

    def up(self, settings: DevenvSettings, progress: Progress) -> list[stack.Row]:
        (spec,) = self.component.build(settings)
        rec, _ = self._supervisor(settings).start(spec)
        return [stack.Row(spec.name, rec.pid, spec.url, "healthy")]

    def status(self, settings: DevenvSettings) -> list[stack.Row]:
        state = self._supervisor(settings).status(self.component.name)
        return [stack.Row(self.component.name, state.pid, "", "running")]

    def supervisor_dirs(self, settings: DevenvSettings) -> list[Path]:
        return [settings.run_dir / "own"]

    def notes(self, settings: DevenvSettings) -> list[str]:
        return [f"use {self.component.name}"]


def test_down_stops_step_daemons_in_reverse_start_order(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = [
        _listener_component("first", free_port()),
        stack.Component("plane", step=_ListenerStep("plane-daemon", free_port())),
        stack.Component(
            "off", step=_ListenerStep("never", free_port()), unavailable=lambda _s: "no"
        ),
        _listener_component("last", free_port()),
    ]
    monkeypatch.setattr(stack, "components", lambda: fake)
    monkeypatch.setenv("TIER0_RUN_DIR", str(tmp_path))

    assert cli.main(["up"]) == 0
    out = capsys.readouterr().out
    assert "off: skipped: no" in out
    assert "\nuse plane-daemon" in out
    assert "use never" not in out
    rows = {r.name: r for r in stack.status(DevenvSettings())}
    assert rows["plane-daemon"].status == "running" and rows["off"].status == "skipped: no"
    pids = [r.pid for r in rows.values() if r.pid is not None]
    assert len(pids) == 3

    assert cli.main(["down"]) == 0
    out = capsys.readouterr().out
    assert (
        out.index("last: stopped")
        < out.index("plane-daemon: stopped")
        < out.index("first: stopped")
    )
    assert not any(process_alive(pid) for pid in pids)


def test_dashboard_shows_both_local_region_apis(tmp_path: Path) -> None:
    dashboard = _specs(DevenvSettings(run_dir=tmp_path), "dashboard")["dashboard"]
    assert dashboard.env["REGION_APIS"] == (
        "region1=http://127.0.0.1:8000,region2=http://127.0.0.1:8100"
    )
    assert dashboard.ports == [3000]
    assert str(dashboard.health) == "GET http://127.0.0.1:3000/health"


def test_region_apis_get_the_local_kubeconfig_for_failover_endpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack.kube_stack, "kube_unavailable", lambda _s: None)
    api = _specs(DevenvSettings(run_dir=tmp_path), "api-region1")["api-region1"]
    assert api.env["KUBECONFIG"] == str(tmp_path / "k8s" / "api-kubeconfig")
    assert api.env["FAILOVER_NAMESPACE"] == "default"
    monkeypatch.setattr(stack.kube_stack, "kube_unavailable", lambda _s: "no binaries")
    api = _specs(DevenvSettings(run_dir=tmp_path), "api-region1")["api-region1"]
    assert "KUBECONFIG" not in api.env


def test_region_apis_allow_the_dashboard_origin_and_trust_no_one_by_default(
    tmp_path: Path,
) -> None:
    api = _specs(DevenvSettings(run_dir=tmp_path), "api-region2")["api-region2"]
    assert api.env["CORS_ORIGINS"] == "http://127.0.0.1:3000,http://localhost:3000"
    assert "FAILOVER_TRUST_LOOPBACK" not in api.env
    trusting = DevenvSettings(run_dir=tmp_path, failover_trust_loopback=True)
    assert _specs(trusting, "api-region2")["api-region2"].env["FAILOVER_TRUST_LOOPBACK"] == "true"
