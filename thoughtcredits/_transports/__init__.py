"""The transport seam: the ``Transport`` protocol, the aiohttp transport, its failure mapping and
the mock transport.
"""
