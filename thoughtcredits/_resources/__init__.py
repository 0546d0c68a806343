"""The API's endpoints as Python: the endpoint table, the resource namespaces and pagination."""
