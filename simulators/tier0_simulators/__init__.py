"""Simulators: the IoT fleet over MQTT (iot) and web-site user activity over RabbitMQ (users)."""
