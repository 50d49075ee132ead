"""Prometheus Alertmanager (webhook_config, version 4)."""
