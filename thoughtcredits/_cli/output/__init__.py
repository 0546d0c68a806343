"""What the command line writes: machine formats, tables, parquet, progress and notes, all
neutralized for a terminal.
"""
