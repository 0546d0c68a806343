"""OpenTelemetry: the spans and metrics of requests, read through the SDK's in-memory exporter
and metric reader."""
