"""The key's quota, owned by the client: the pause, the probe, the limiters and the Redis-shared
bucket.
"""
