"""The partner API: per-partner API keys, idempotent referrals, problem details, OpenAPI."""
