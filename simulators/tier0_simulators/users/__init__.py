"""User-activity simulator: each web site reports its active users and server health to
RabbitMQ every few seconds, the way a real site's monitoring agent would.

Split so the interesting parts test without a broker: ``generator`` makes the reports
(pure, seeded), ``publisher`` delivers them with confirms and reconnects, ``__main__``
wires settings, logs and metrics together.
"""
