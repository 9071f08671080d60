"""Email + password accounts that sign in with the backend's own JWTs."""
