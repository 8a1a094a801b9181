"""Device endpoints: activity counts, alerts, per-site metrics, one device.

``routes`` (HTTP), ``queries`` (the RediSearch queries over idx:dev and the per-site
statistics cache), ``schemas`` (response models).
"""
