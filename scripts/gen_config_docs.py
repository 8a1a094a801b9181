"""Regenerate docs/configuration.md from every component's settings class.

Run: .venv/bin/python scripts/gen_config_docs.py  (tests/unit/test_configuration_doc.py
fails when the committed page differs from what this prints).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from tier0_common.settings_doc import markdown_table

#: (component, how it runs, "module:Class") in data-flow order.
COMPONENTS: tuple[tuple[str, str, str], ...] = (
    (
        "IoT simulator",
        "python -m tier0_simulators.iot",
        "tier0_simulators.iot.settings:IotSimulatorSettings",
    ),
    (
        "User-activity simulator",
        "python -m tier0_simulators.users",
        "tier0_simulators.users.settings:UserSimSettings",
    ),
    (
        "MQTT ingest worker",
        "python -m tier0_ingest.mqtt",
        "tier0_ingest.mqtt.settings:MqttIngestSettings",
    ),
    (
        "AMQP ingest worker",
        "python -m tier0_ingest.amqp",
        "tier0_ingest.amqp.settings:AmqpIngestSettings",
    ),
    ("Region API", "python -m tier0_api", "tier0_api.settings:Settings"),
    ("AI features (inside the region API)", "python -m tier0_ai", "tier0_ai.settings:Settings"),
    ("SRE dashboard", "python -m tier0_dashboard", "tier0_dashboard.settings:Settings"),
    ("Operator", "python -m tier0_operator", "tier0_operator.settings:Settings"),
    ("Local stack (make up)", "python -m tier0_devenv", "tier0_devenv.settings:DevenvSettings"),
    (
        "Local stack: Kubernetes part",
        "python -m tier0_devenv",
        "tier0_devenv.k8s.settings:LocalKubeSettings",
    ),
    (
        "Local Kubernetes control plane",
        "python -m tier0_devenv.k8s",
        "tier0_devenv.k8s.settings:K8sSettings",
    ),
    (
        "Real single-node cluster (make cluster)",
        "python -m tier0_devenv.node",
        "tier0_devenv.node.settings:NodeSettings",
    ),
    (
        "Local images (no registry)",
        "python -m tier0_devenv.images",
        "tier0_devenv.images.settings:ImagesSettings",
    ),
)

HEADER = """# Configuration reference

Every component reads its configuration from environment variables through one typed
settings class; a bad value stops the process at start-up with a message naming the
variable. This page is generated from those classes by `scripts/gen_config_docs.py`
(a unit test fails when it is out of date), so it matches the code.
"""


def render() -> str:
    parts = [HEADER]
    for title, command, target in COMPONENTS:
        module_name, class_name = target.split(":")
        try:
            settings_class = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):
            continue
        parts.append(
            f"\n## {title}\n\n`{command}` — `{target}`\n\n{markdown_table(settings_class)}\n"
        )
    return "".join(parts)


def main() -> int:
    out = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
    out.write_text(render())
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
