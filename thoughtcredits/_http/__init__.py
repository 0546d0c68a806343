"""One API request, end to end: shared client state, the attempt pipeline, the retry loop and the
pure response interpreter.
"""
