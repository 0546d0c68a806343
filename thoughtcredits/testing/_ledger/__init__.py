"""The local server's state: the ledger's records and rules, snapshots, seeds and planted
discrepancies.
"""
