"""Who may fail a region over: Kubernetes decides, not this API.

A mutating endpoint (POST /api/failover/*) needs a bearer token. The API asks the
Kubernetes API server who the token belongs to (a TokenReview) and whether that user
may ``create`` ``regionfailovers`` in the group's namespace (a SubjectAccessReview),
so the RBAC that governs `kubectl create regionfailover` governs the button, and the
RegionFailover and its Event name the real caller. ``force: true`` skips every
safety gate, so it needs a permission of its own: the custom verb ``force`` on
``regionfailovers`` (docs/security.md). Read endpoints stay open.

Modules: ``reviews`` (the two blocking review calls), ``caller`` (the FastAPI
dependency and the permission checks the routes call).
"""
