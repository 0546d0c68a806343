"""Export files that appear whole or not at all, and the checkpoints that let an interrupted export
resume.
"""
