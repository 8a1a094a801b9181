"""Types and names shared by every tier0 component: the fleet catalogue, the wire
payloads, the Redis key layout, logging set-up. Nothing here talks to a server."""
