"""Wire data and Python values: exact JSON, the cattrs converter, its generated structure
functions, the scalar hooks and Arrow tables.
"""
