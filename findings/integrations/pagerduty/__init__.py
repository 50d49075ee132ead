"""PagerDuty (Webhooks v3, signed)."""
