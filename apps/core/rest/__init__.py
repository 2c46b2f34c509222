"""The REST framework's shared pieces: one error shape, permissions, rate limits, pagination, schema, routes."""
