"""The API's endpoints as Python: the resource namespaces, raw responses and pagination."""
