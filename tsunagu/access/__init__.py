"""6. Access: the users file, roles and sessions, and the sign-in. Imports the contract and the
store's safe file writing."""
