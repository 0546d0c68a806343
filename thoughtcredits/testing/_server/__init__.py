"""The local server's HTTP side: routes, admin API, validation, rendering, faults, rate limits and
the request log.
"""
