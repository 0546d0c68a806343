"""One API request, end to end: the endpoint row type, the one entry and its attempt loop, the
retry plan, shared client state, raw responses and the pure response interpreter.
"""
