"""What `make up` runs, in order, as a list of component specs.

A component is a name, the Python module it needs (if any) and either a function from
settings to ProcessSpecs (a daemon the Supervisor starts) or a Step (steps.py: a
one-shot job such as indexing the AI corpora, or a group of daemons such as the
Kubernetes control plane). Start order is list order; `down` stops in reverse start
order from the pidfiles of the run folder and of every Step's own supervisor folder,
so it needs no entry of its own.

Why one module of ~440 lines: it is the list of components and each one's environment
(ports, credentials, URLs of the others); read together, it shows how the local run
is wired, and splitting it would scatter that one table.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from . import credentials, infra, watch
from .ai_data import AiCorpora
from .k8s import stack as kube_stack
from .processes import (
    CallableCheck,
    DevenvError,
    HealthCheck,
    HttpCheck,
    ProcessRecord,
    ProcessSpec,
    Supervisor,
)
from .settings import REPO_ROOT, DevenvSettings
from .steps import Progress, Row, Step

LOCALHOST = "127.0.0.1"
REGIONS = ("region1", "region2")


def _no_processes(_settings: DevenvSettings) -> list[ProcessSpec]:
    return []


@dataclass(frozen=True)
class Component:
    name: str
    build: Callable[[DevenvSettings], list[ProcessSpec]] = _no_processes
    #: A module run with `python -m`; while it does not exist the component is skipped.
    module: str | None = None
    #: Run instead of ``build`` when set.
    step: Step | None = None
    #: Why the component cannot run on this machine (skipped with that reason), or None.
    unavailable: Callable[[DevenvSettings], str | None] | None = None

    def skip_reason(self, settings: DevenvSettings) -> str | None:
        if self.module is not None and not module_runnable(self.module):
            return f"{self.module} not installed yet"
        return self.unavailable(settings) if self.unavailable is not None else None


def module_runnable(module: str) -> bool:
    """True if `python -m module` would find something to run."""
    try:
        spec = importlib.util.find_spec(module)
        if spec is not None and spec.submodule_search_locations is not None:
            spec = importlib.util.find_spec(f"{module}.__main__")
    except ImportError:
        return False
    return spec is not None


def python_app(
    name: str,
    module: str,
    env: dict[str, str],
    *,
    health_url: str,
    url: str,
    start_timeout: float = 60,
    ports: list[int] | None = None,
) -> ProcessSpec:
    """A tier0 Python service run with this interpreter, healthy when ``health_url`` is.

    ``ports`` are checked free before the start, so a port held by something else is
    reported by name instead of as a crash in the service's log."""
    health: HealthCheck = HttpCheck(health_url)
    return ProcessSpec(
        name=name,
        argv=[sys.executable, "-m", module],
        env={"PYTHONUNBUFFERED": "1", **env},
        cwd=REPO_ROOT,
        health=health,
        start_timeout=start_timeout,
        url=url,
        ports=list(ports or []),
    )


def _redis_port(settings: DevenvSettings, region: str) -> int:
    return settings.redis1_port if region == "region1" else settings.redis2_port


creds = credentials.of_run
redis_password = credentials.redis_password


def _redis_env(settings: DevenvSettings, region: str) -> dict[str, str]:
    return {
        "REGION": region,
        "REDIS_HOST": LOCALHOST,
        "REDIS_PORT": str(_redis_port(settings, region)),
        "REDIS_PASSWORD": redis_password(settings),
    }


def _amqp_url(settings: DevenvSettings, role: str) -> str:
    return creds(settings).amqp_url(role, LOCALHOST, settings.amqp_port)


def mqtt_env(settings: DevenvSettings, role: str) -> dict[str, str]:
    """Where Mosquitto is and who this component is on it (credentials.MQTT_ACL)."""
    cred = creds(settings).mqtt[role]
    return {
        "MQTT_HOST": LOCALHOST,
        "MQTT_PORT": str(settings.mqtt_port),
        "MQTT_USERNAME": cred.username,
        "MQTT_PASSWORD": cred.password,
    }


def _metrics(port: int) -> str:
    return f"http://{LOCALHOST}:{port}/metrics"


def _rabbit_node(settings: DevenvSettings) -> infra.RabbitNode:
    return infra.rabbitmq_node(
        settings.run_dir,
        settings.amqp_port,
        creds(settings),
        dist_port=settings.dist_port,
        epmd_port=settings.resolved_epmd_port,
    )


def _redis(s: DevenvSettings, region: str) -> list[ProcessSpec]:
    port = _redis_port(s, region)
    return infra.redis_specs(s.run_dir, port, name=f"redis-{region}", password=redis_password(s))


def _infra_components() -> list[Component]:
    return [
        Component(
            "mosquitto",
            lambda s: infra.mosquitto_specs(
                s.run_dir, s.mqtt_port, creds(s), bind_all=s.mqtt_bind_all
            ),
        ),
        Component("rabbitmq", lambda s: infra.rabbitmq_specs(_rabbit_node(s))),
        *_per_region("redis", None, _redis),
    ]


def _mqtt_ingest(s: DevenvSettings, region: str) -> list[ProcessSpec]:
    port = s.mqtt_ingest1_metrics_port if region == "region1" else s.mqtt_ingest2_metrics_port
    env = {
        **_redis_env(s, region),
        **mqtt_env(s, "ingest"),
        "METRICS_PORT": str(port),
        # One worker per region, restarted in place: a stable id makes its session
        # persistent, so a restart gets the QoS 1 messages the broker kept meanwhile.
        "MQTT_CLIENT_ID": f"tier0-ingest-mqtt-{region}",
    }
    url = _metrics(port)
    name = f"ingest-mqtt-{region}"
    return [python_app(name, "tier0_ingest.mqtt", env, health_url=url, url=url, ports=[port])]


def _amqp_ingest(s: DevenvSettings, region: str) -> list[ProcessSpec]:
    port = s.amqp_ingest1_metrics_port if region == "region1" else s.amqp_ingest2_metrics_port
    env = {
        **_redis_env(s, region),
        "AMQP_URL": _amqp_url(s, "ingest"),
        "METRICS_PORT": str(port),
    }
    url = _metrics(port)
    name = f"ingest-amqp-{region}"
    return [python_app(name, "tier0_ingest.amqp", env, health_url=url, url=url, ports=[port])]


def _api(s: DevenvSettings, region: str) -> list[ProcessSpec]:
    port = s.api1_port if region == "region1" else s.api2_port
    env = {
        **_redis_env(s, region),
        "API_HOST": LOCALHOST,
        "API_PORT": str(port),
        # The browser calls the APIs from the dashboard's page: that origin only.
        "CORS_ORIGINS": f"http://{LOCALHOST}:{s.dashboard_port},http://localhost:{s.dashboard_port}",
        **kube_stack.api_failover_env(s),
    }
    if s.failover_trust_loopback:
        env["FAILOVER_TRUST_LOOPBACK"] = "true"
    base = f"http://{LOCALHOST}:{port}"
    return [
        python_app(
            f"api-{region}",
            "tier0_api",
            env,
            health_url=f"{base}/health",
            url=base,
            start_timeout=120,
            ports=[port],
        )
    ]


def _iot_simulator(s: DevenvSettings) -> list[ProcessSpec]:
    env = {
        **mqtt_env(s, "simulator"),
        "NUM_DEVICES": str(s.num_devices),
        "NUM_SITES": str(s.num_sites),
        "PUBLISH_INTERVAL_SECONDS": f"{s.publish_interval_seconds:g}",
        "METRICS_PORT": str(s.iot_sim_metrics_port),
    }
    url = _metrics(s.iot_sim_metrics_port)
    port = s.iot_sim_metrics_port
    return [
        python_app("sim-iot", "tier0_simulators.iot", env, health_url=url, url=url, ports=[port])
    ]


def _users_simulator(s: DevenvSettings) -> list[ProcessSpec]:
    env = {
        "AMQP_URL": _amqp_url(s, "simulator"),
        "METRICS_PORT": str(s.users_sim_metrics_port),
    }
    url = _metrics(s.users_sim_metrics_port)
    port = s.users_sim_metrics_port
    return [
        python_app(
            "sim-users", "tier0_simulators.users", env, health_url=url, url=url, ports=[port]
        )
    ]


def _dashboard(s: DevenvSettings) -> list[ProcessSpec]:
    apis = f"region1=http://{LOCALHOST}:{s.api1_port},region2=http://{LOCALHOST}:{s.api2_port}"
    env = {
        "DASHBOARD_HOST": LOCALHOST,
        "DASHBOARD_PORT": str(s.dashboard_port),
        "REGION_APIS": apis,
    }
    base = f"http://{LOCALHOST}:{s.dashboard_port}"
    health = f"{base}/health"
    port = s.dashboard_port
    return [
        python_app("dashboard", "tier0_dashboard", env, health_url=health, url=base, ports=[port])
    ]


def _in_region(
    build: Callable[[DevenvSettings, str], list[ProcessSpec]], region: str
) -> Callable[[DevenvSettings], list[ProcessSpec]]:
    def specs(settings: DevenvSettings) -> list[ProcessSpec]:
        return build(settings, region)

    return specs


def _per_region(
    name: str, module: str | None, build: Callable[[DevenvSettings, str], list[ProcessSpec]]
) -> list[Component]:
    return [Component(f"{name}-{region}", _in_region(build, region), module) for region in REGIONS]


def _kube_components() -> list[Component]:
    unavailable = kube_stack.kube_unavailable
    return [
        Component("k8s", step=kube_stack.ControlPlane(), unavailable=unavailable),
        Component("k8s-objects", step=kube_stack.RegionObjects(), unavailable=unavailable),
        Component("operator", kube_stack.operator_specs, "tier0_operator", unavailable=unavailable),
    ]


def _watch(s: DevenvSettings) -> list[ProcessSpec]:
    """The watcher (tier0_devenv.watch), healthy while its heartbeat is fresh."""
    run_dir = s.run_dir
    return [
        ProcessSpec(
            name="watch",
            argv=[sys.executable, "-m", "tier0_devenv", "watch"],
            env={"PYTHONUNBUFFERED": "1"},
            cwd=REPO_ROOT,
            health=CallableCheck(lambda: watch.heartbeat_fresh(run_dir), "restarts.json heartbeat"),
            start_timeout=30,
            prepare=lambda: (run_dir / watch.STATE_FILE).unlink(missing_ok=True),
            url=str(run_dir / watch.STATE_FILE),
            # What it restarted is its child but has a pidfile of its own.
            stop_descendants=False,
        )
    ]


def watched_specs(settings: DevenvSettings) -> list[ProcessSpec]:
    """The daemons the watcher restarts: every selected, runnable component's process
    specs (the Steps' own groups, such as the control plane, are not watched)."""
    return [
        spec
        for component in selected_components(settings)
        if component.step is None and component.name != "watch"
        and component.skip_reason(settings) is None
        for spec in component.build(settings)
    ]  # fmt: skip


def components() -> list[Component]:
    """Everything `make up` starts, in start order: brokers and stores first, the AI
    corpora into the stores, then the consumers that need them, then the APIs, then
    the simulators that feed them; then the control plane, the objects the operator
    acts on, and the operator, whose health checks need the region APIs; last the
    watcher, which restarts any of them that crashes."""
    return [
        *_infra_components(),
        Component("ai-data", module="tier0_ai", step=AiCorpora()),
        *_per_region("ingest-mqtt", "tier0_ingest.mqtt", _mqtt_ingest),
        *_per_region("ingest-amqp", "tier0_ingest.amqp", _amqp_ingest),
        *_per_region("api", "tier0_api", _api),
        Component("sim-iot", _iot_simulator, "tier0_simulators.iot"),
        Component("sim-users", _users_simulator, "tier0_simulators.users"),
        Component("dashboard", _dashboard, "tier0_dashboard"),
        *_kube_components(),
        Component("watch", _watch),
    ]


# --- operations ------------------------------------------------------------------------


def selected_components(settings: DevenvSettings) -> list[Component]:
    chosen = settings.selected
    known = [component.name for component in components()]
    unknown = sorted(chosen - set(known))
    if unknown:
        raise DevenvError(f"TIER0_COMPONENTS names unknown components {unknown}; known: {known}")
    return [c for c in components() if not chosen or c.name in chosen]


def up(settings: DevenvSettings, progress: Progress) -> Iterator[Row]:
    """Start every selected component in order; yields a row per process, step or skip.

    Stops at the first failure (raising DevenvError); what already started keeps
    running so its logs can be read, and `down` stops it.
    """
    supervisor = Supervisor(settings.run_dir)
    for component in selected_components(settings):
        reason = component.skip_reason(settings)
        if reason is not None:
            progress(f"{component.name}: skipped: {reason}")
            yield Row(component.name, None, "", "skipped")
            continue
        if component.step is not None:
            yield from component.step.up(settings, progress)
            continue
        for spec in component.build(settings):
            progress(f"{spec.name}: starting ...")
            rec, started = supervisor.start(spec)
            verb = "started" if started else "already running"
            progress(f"{spec.name}: {verb} (pid {rec.pid}) {spec.url}")
            yield Row(spec.name, rec.pid, spec.url, "healthy")


def notes(settings: DevenvSettings) -> list[str]:
    """How to use what `up` started: the notes of every selected Step that can run."""
    return [
        line
        for component in selected_components(settings)
        if component.step is not None and component.skip_reason(settings) is None
        for line in component.step.notes(settings)
    ]


def _supervisors(settings: DevenvSettings) -> list[Supervisor]:
    """The run folder's Supervisor and those of the Steps that keep their own."""
    dirs = [settings.run_dir]
    for component in components():
        if component.step is not None:
            dirs += [d for d in component.step.supervisor_dirs(settings) if d not in dirs]
    return [Supervisor(d) for d in dirs]


def down(settings: DevenvSettings, progress: Progress) -> list[ProcessRecord]:
    """Stop, newest first, every process `up` recorded in the run folder (and the Steps'
    folders, such as the control plane's); nothing else."""
    recorded = [
        (rec, supervisor)
        for supervisor in _supervisors(settings)
        for name in supervisor.recorded_names()
        if (rec := supervisor.record(name)) is not None
    ]
    # The watcher goes first whatever its start time: a component it restarted is newer
    # than it, and must not be started again while `down` stops it.
    order = sorted(
        recorded, key=lambda item: (item[0].name == "watch", item[0].started_at), reverse=True
    )
    stopped = []
    for rec, supervisor in order:
        if supervisor.stop(rec.name):
            progress(f"{rec.name}: stopped (pid {rec.pid})")
            stopped.append(rec)
        else:
            progress(f"{rec.name}: was not running (stale pidfile removed)")
    return stopped


def status(settings: DevenvSettings) -> list[Row]:
    """A row for every process and step of the stack plus any other recorded process."""
    supervisor = Supervisor(settings.run_dir)
    restarted = watch.restarts(settings.run_dir)
    rows: list[Row] = []
    seen: set[str] = set()
    for component in components():
        if component.module is not None and not module_runnable(component.module):
            rows.append(Row(component.name, None, "", "not installed"))
            continue
        if component.unavailable is not None and (reason := component.unavailable(settings)):
            rows.append(Row(component.name, None, "", f"skipped: {reason}"))
            continue
        if component.step is not None:
            rows += component.step.status(settings)
            continue
        try:
            specs = component.build(settings)
        except DevenvError as exc:
            rows.append(Row(component.name, None, "", f"error: {exc}"))
            continue
        for spec in specs:
            seen.add(spec.name)
            state = supervisor.status(spec.name, spec.health)
            text = "stopped" if not state.running else "healthy" if state.healthy else "UNHEALTHY"
            rows.append(Row(spec.name, state.pid, spec.url, text, restarted.get(spec.name)))
    for name in supervisor.recorded_names():
        if name not in seen:
            state = supervisor.status(name)
            rows.append(Row(name, state.pid, "", "running" if state.running else "stopped"))
    return rows
