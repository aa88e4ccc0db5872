"""The policykg web service (SPARQL endpoint and linked-data pages)."""
