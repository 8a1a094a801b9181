"""The failover endpoints: the API creates RegionFailover objects and reads
FailoverGroups; the operator does the failover itself.

``routes`` (HTTP), ``auth`` (who may: the bearer token checked by Kubernetes),
``planning`` (pure: which regions, which manifest, which answer), ``store`` (the
blocking Kubernetes calls, run in a worker thread by the routes), ``connection``
(credentials, lazily), ``errors`` (Kubernetes failures as HTTP answers), ``schemas``
(request and response models).
"""
