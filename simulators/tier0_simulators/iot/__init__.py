"""The IoT simulator: a fleet of turbines, thermal engines, electrical rotors and oil &
gas sensors publishing the seed's telemetry to Mosquitto (``python -m tier0_simulators.iot``).

Modules: ``models`` (physics, faults, status), ``fleet`` (identities, payloads, ground
truth), ``publisher`` (the MQTT socket), ``settings``, ``__main__`` (the round loop).
"""
